// Interop of wallet pickup over OpenID for Verifiable Credential Issuance 1.0 (OID4VCI), the
// pre-authorized code flow: on a running `cairn serve --demo`, the demo graduate asks for a wallet
// offer for their award over the JSON API, and the npm package @openid4vc/openid4vci (OpenWallet
// Foundation, class Openid4vciClient; pinned in tests/interop/peers) acts as the wallet. It
// resolves the `openid-credential-offer://` URL and the credential issuer and authorization server
// metadata, exchanges the pre-authorized code and the transaction code for an access token (no
// client authentication), asks the nonce endpoint for a c_nonce and proves possession of the
// holder's key with an `openid4vci-proof+jwt`. Two holders, their keys made with Node's crypto: an
// Ed25519 did:key (kid header) and a P-256 key sent as a `jwk` header (bound as did:jwk). The
// credentials picked up, the Data Integrity form (ldp_vc) and the VC-JWT (jwt_vc_json), must pass
// the independent verifiers in tests/interop/peers (DCC with the status lists checked, PyJWT and
// jwcrypto), be bound to the holder, and carry the award's own status entries. Bad requests are
// refused with the OAuth 2.0 / OID4VCI error codes (a wrong or missing transaction code, a code
// used twice, a reused nonce, a proof for another audience or signed by another key, an unknown
// configuration, no or a wrong access token, another learner's award; a code used twice also ends
// the access it gave). Last, the issuer suspends and revokes the award: no new offer may be made, a
// wallet granted access before cannot pick it up, and the wallet copies fail their status check.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importPeer, peer as peerIn, startDemo } from './lib/cairn.mjs';

const oid4vci = await importPeer('@openid4vc/openid4vci');
// The demo server is plain http on loopback, which the library refuses unless told.
oid4vci.setGlobalConfig({ allowInsecureUrls: true });

const GRADUATE = ['graduate@demo.cairn.test', 'cairn-demo-graduate'];
const LEARNER = ['learner@demo.cairn.test', 'cairn-demo-learner'];
const ISSUER = ['issuer@demo.cairn.test', 'cairn-demo-issuer'];
const PRE_AUTHORIZED = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';
const LDP = 'OpenBadgeCredential_ldp_vc';
const JWT_VC = 'OpenBadgeCredential_jwt_vc_json';
const VC2 = 'https://www.w3.org/ns/credentials/v2';
const OB3_CONTEXT = /^https:\/\/purl\.imsglobal\.org\/spec\/ob\/v3p0\/context-3\.0\.\d+\.json$/;
const PROOF_TYP = 'openid4vci-proof+jwt';
const REVOCATION_REASON = 'awarded in error';

let dir;
const peer = (script, ...args) => peerIn(dir, script, ...args);

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const decodeJwt = (jwt) => {
  const [header, payload] = jwt.split('.');
  return { header: b64urlJson(header), payload: b64urlJson(payload) };
};
const sorted = (values) => [...values].sort();
/** A six-digit code other than `code`. */
const otherCode = (code) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');
// JWT registered claims a VC-JWT adds around the credential (OB 3.0 §8.2.4.1).
const JWT_CLAIMS = ['iss', 'jti', 'sub', 'nbf', 'exp', 'iat', 'aud'];
/** A credential without what binds a copy to its holder: its id, its subject's id, its proof. */
const unbound = ({ id, proof, credentialSubject: { id: subject, ...subjectRest } = {}, ...rest }) => ({ ...rest, credentialSubject: subjectRest });
const issuerId = (credential) => (typeof credential.issuer === 'object' ? credential.issuer.id : credential.issuer);

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58btc(bytes) {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let text = '';
  while (n > 0n) {
    text = BASE58[Number(n % 58n)] + text;
    n /= 58n;
  }
  for (const byte of bytes) {
    if (byte !== 0) break;
    text = `1${text}`;
  }
  return text;
}

/** An Ed25519 holder: its did:key (multicodec 0xed01), the kid of its key and a did signer. */
function ed25519Holder() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' });
  const multibase = `z${base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(publicJwk.x, 'base64url')]))}`;
  const did = `did:key:${multibase}`;
  const kid = `${did}#${multibase}`;
  return {
    did, kid, alg: 'EdDSA', publicJwk,
    signer: { method: 'did', didUrl: kid, alg: 'EdDSA' },
    sign: (data) => crypto.sign(null, data, privateKey),
  };
}

/** A P-256 holder sending its public key as the proof's `jwk` header (ES256, JOSE signatures). */
function p256Holder() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  return {
    alg: 'ES256', publicJwk,
    signer: { method: 'jwk', publicJwk, alg: 'ES256' },
    sign: (data) => crypto.sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
  };
}

/** A compact JWS over `header` and `payload`, signed by `holder`. */
function signJws(holder, header, payload) {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${holder.sign(Buffer.from(input)).toString('base64url')}`;
}

/** Awaits `promise`, which must reject with an instance of `type`; returns the error. */
async function rejection(promise, type, what) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `${what}: expected ${type.name}, got ${error?.name}: ${error?.message}`);
    return error;
  }
  assert.fail(`${what}: expected ${type.name}, but it succeeded`);
}

describe('@openid4vc/openid4vci as a wallet picks up an award over OID4VCI 1.0 (pre-authorized code)', () => {
  let server;
  let base;
  let graduate; // the graduate's API token
  let award; // the graduate's award, as GET /api/v1/awards/{id} answers
  let awardCredential; // its Data Integrity credential, as downloaded
  let offer; // the first wallet offer, as POST /api/v1/awards/{id}/wallet-offers answered
  let client; // the wallet
  const ed = ed25519Holder();
  const p256 = p256Holder();
  const holders = [ed, p256];
  const wire = []; // what the wallet sent and was answered, as seen on the wire
  const files = { ldp: 'wallet-ed25519.json', jwt: 'wallet-ed25519.jwt', p256: 'wallet-p256.json' };
  const shared = {}; // the Ed25519 holder's grant, shared by the flow and the JWT pickup

  async function api(method, urlPath, { token, body, form, headers: extra = {} } = {}) {
    const headers = { ...extra };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(form).toString();
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(urlPath.startsWith('http') ? urlPath : base + urlPath, { method, headers, body: payload, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, json, text, headers: response.headers };
  }
  function expectOk(what, response, ...statuses) {
    assert.ok(statuses.includes(response.status), `${what}: HTTP ${response.status} ${response.text}`);
    return response.json;
  }
  /** An OAuth 2.0 / OID4VCI error answer: the status, a JSON body and its `error` code. */
  function expectError(what, response, status, error) {
    assert.equal(response.status, status, `${what}: HTTP ${response.status} ${response.text}`);
    assert.match(response.headers.get('content-type') ?? '', /json/, `${what}: ${response.headers.get('content-type')}`);
    assert.equal(response.json?.error, error, `${what}: ${response.text}`);
    return response.json;
  }
  async function logIn([email, password]) {
    return (await expectOk(`log in ${email}`, await api('POST', '/api/v1/session', { body: { email, password } }), 201, 200)).token;
  }
  async function download(url, name, token) {
    assert.ok(url.startsWith(`${base}/`), `${url} is not on the running server ${base}`);
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(response.status, 200, `GET ${url}: ${bytes.toString('utf8', 0, 300)}`);
    fs.writeFileSync(path.join(dir, name), bytes);
    return bytes;
  }
  const save = (name, content) => fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));

  /** A new wallet offer for the graduate's award, checked for its shape. */
  async function newOffer() {
    const made = await expectOk('wallet offer', await api('POST', `/api/v1/awards/${award.id}/wallet-offers`, { token: graduate, body: {} }), 201);
    assert.equal(typeof made.credential_offer, 'object', JSON.stringify(made));
    assert.match(made.tx_code, /^\d{6}$/, JSON.stringify(made));
    assert.ok(made.credential_offer.grants?.[PRE_AUTHORIZED]?.['pre-authorized_code'], JSON.stringify(made));
    return made;
  }

  // The wallet's callbacks: SHA-2 and randomness from Node, and JWTs signed by the holders' keys.
  function signJwt(signer, { header, payload }) {
    const holder = signer.method === 'did'
      ? holders.find((h) => h.signer.method === 'did' && h.signer.didUrl === signer.didUrl)
      : holders.find((h) => h.signer.method === 'jwk' && h.publicJwk.x === signer.publicJwk?.x);
    assert.ok(holder, `no holder for the signer ${JSON.stringify(signer)}`);
    return { jwt: signJws(holder, header, payload), signerJwk: holder.publicJwk };
  }
  const unused = (name) => () => { throw new Error(`the wallet does not ${name} here`); };
  // Records each request the wallet sends (and the answer's status and headers).
  const recordingFetch = async (input, init = {}) => {
    const response = await fetch(input, init);
    wire.push({
      url: String(input),
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body: init.body === undefined ? undefined : String(init.body),
      status: response.status,
      responseHeaders: response.headers,
    });
    return response;
  };
  const lastSent = (urlPath) => wire.filter((r) => r.url === base + urlPath).at(-1);

  /** The offer and the issuer metadata resolved by the wallet. */
  async function discover(made) {
    const credentialOffer = await client.resolveCredentialOffer(made.credential_offer_url);
    const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
    return { credentialOffer, issuerMetadata };
  }
  /** The whole grant by the wallet: the offer resolved, the token for the pre-authorized code. */
  async function grant(made) {
    const { credentialOffer, issuerMetadata } = await discover(made);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: made.tx_code });
    return { credentialOffer, issuerMetadata, accessToken: accessTokenResponse.access_token, accessTokenResponse };
  }
  /** One credential fetched by the wallet with a fresh nonce and a proof by `holder`. */
  async function pickUp({ issuerMetadata, accessToken }, holder, credentialConfigurationId) {
    const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt: proof } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId, signer: holder.signer, nonce });
    const { credentialResponse } = await client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId, proofs: { jwt: [proof] } });
    assert.equal(credentialResponse.credentials?.length, 1, JSON.stringify(credentialResponse));
    return { nonce, proof, credential: credentialResponse.credentials[0].credential, credentialResponse };
  }

  /** A credential request sent as is, with a raw proof. */
  const credentialRequest = (accessToken, body, headers = {}) => api('POST', '/oid4vci/credential', {
    body, headers: accessToken ? { authorization: `Bearer ${accessToken}`, ...headers } : headers,
  });
  async function freshNonce() {
    const answer = await expectOk('nonce', await api('POST', '/oid4vci/nonce'), 200);
    assert.equal(typeof answer.c_nonce, 'string', JSON.stringify(answer));
    return answer.c_nonce;
  }
  const proofClaims = (nonce, overrides = {}) => ({ aud: base, iat: Math.floor(Date.now() / 1000), nonce, ...overrides });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-wallet-'));
    server = await startDemo(dir);
    base = server.base;
    client = new oid4vci.Openid4vciClient({
      callbacks: {
        fetch: recordingFetch,
        hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '')).update(data).digest()),
        generateRandom: (length) => new Uint8Array(crypto.randomBytes(length)),
        signJwt,
        // Anonymous access to the token endpoint (pre-authorized_grant_anonymous_access_supported):
        // nothing is added to the request, which the wallet checks it was told it may do.
        clientAuthentication: ({ authorizationServerMetadata, body }) => {
          assert.equal(body.grant_type, PRE_AUTHORIZED, 'the wallet authenticates only the pre-authorized grant, anonymously');
          assert.equal(authorizationServerMetadata['pre-authorized_grant_anonymous_access_supported'], true, JSON.stringify(authorizationServerMetadata));
        },
        decryptJwe: unused('decrypt JWEs'),
      },
    });

    graduate = await logIn(GRADUATE);
    const mine = await expectOk('my awards', await api('GET', '/api/v1/awards', { token: graduate }), 200);
    const items = mine.items ?? mine;
    const active = items.filter((a) => a.status === 'active');
    assert.ok(active.length >= 1, `the demo graduate holds no active award: ${JSON.stringify(mine)}`);
    award = await expectOk('the award', await api('GET', `/api/v1/awards/${active[0].id}`, { token: graduate }), 200);
    await download(award.links.credential, 'award.json', graduate);
    awardCredential = JSON.parse(fs.readFileSync(path.join(dir, 'award.json'), 'utf8'));
    assert.ok(awardCredential.credentialStatus, `the award names no status list: ${JSON.stringify(awardCredential)}`);
    offer = await newOffer();
  }, { timeout: 300_000 });

  after(async () => {
    if (server) await server.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  it('discovery: the wallet resolves the offer URL, the issuer metadata and the authorization server metadata', { timeout: 60_000 }, async () => {
    // The offer as the API answers it: by reference in the URL (credential_offer_uri, which the
    // library fetches), the transaction code told apart.
    assert.ok(offer.credential_offer_url.startsWith('openid-credential-offer://?credential_offer_uri='), offer.credential_offer_url);
    const inUrl = new URLSearchParams(offer.credential_offer_url.slice('openid-credential-offer://?'.length)).get('credential_offer_uri');
    assert.equal(inUrl, offer.credential_offer_uri);
    assert.ok(inUrl.startsWith(`${base}/oid4vci/offers/`), inUrl);
    assert.ok(Date.parse(offer.expires_at) > Date.now(), `expires_at ${offer.expires_at} is not in the future`);
    assert.ok(!JSON.stringify(offer.credential_offer).includes(`"${offer.tx_code}"`), 'the transaction code travels apart from the offer');

    const { credentialOffer, issuerMetadata } = await discover(offer);
    assert.equal(credentialOffer.credential_issuer, base);
    assert.deepEqual(sorted(credentialOffer.credential_configuration_ids), sorted([LDP, JWT_VC]));
    const preAuthorized = credentialOffer.grants?.[PRE_AUTHORIZED];
    assert.equal(preAuthorized?.['pre-authorized_code'], offer.credential_offer.grants[PRE_AUTHORIZED]['pre-authorized_code']);
    assert.equal(preAuthorized.tx_code?.input_mode, 'numeric', JSON.stringify(preAuthorized));
    assert.equal(preAuthorized.tx_code?.length, 6, JSON.stringify(preAuthorized));
    assert.equal(typeof preAuthorized.tx_code?.description, 'string', JSON.stringify(preAuthorized));
    assert.equal(credentialOffer.grants.authorization_code, undefined, 'only the pre-authorized code is offered');

    // The credential issuer metadata, fetched by the wallet from /.well-known/openid-credential-issuer.
    const fetched = lastSent('/.well-known/openid-credential-issuer');
    assert.ok(fetched, `the wallet did not fetch the credential issuer metadata: ${wire.map((r) => r.url)}`);
    assert.equal(fetched.status, 200);
    const issuer = issuerMetadata.credentialIssuer;
    assert.equal(issuer.credential_issuer, base);
    assert.equal(issuer.credential_endpoint, `${base}/oid4vci/credential`);
    assert.equal(issuer.nonce_endpoint, `${base}/oid4vci/nonce`);
    assert.ok(Array.isArray(issuer.display) && issuer.display.some((d) => typeof d.name === 'string' && d.name.length > 0), JSON.stringify(issuer.display));
    const configurations = issuer.credential_configurations_supported;
    assert.deepEqual(sorted(Object.keys(configurations)), sorted([LDP, JWT_VC]));
    // The wallet recognises both as well-formed configurations of their format, and reads the
    // metadata as OID4VCI 1.0's (it tells 1.0 from drafts by a configuration's `credential_metadata`;
    // otherwise it would ask for credentials by `format`, as drafts up to 14 did).
    assert.deepEqual(sorted(Object.keys(issuerMetadata.knownCredentialConfigurations)), sorted([LDP, JWT_VC]));
    assert.equal(issuerMetadata.originalDraftVersion, 'V1', `the wallet reads the metadata as ${issuerMetadata.originalDraftVersion}, not OID4VCI 1.0: ${JSON.stringify(configurations)}`);

    const ldp = configurations[LDP];
    assert.equal(ldp.format, 'ldp_vc');
    const ldpContext = ldp.credential_definition?.['@context'] ?? [];
    assert.equal(ldpContext.length, 2, JSON.stringify(ldpContext));
    assert.equal(ldpContext[0], VC2);
    assert.match(ldpContext[1], OB3_CONTEXT);
    assert.deepEqual(ldp.credential_definition.type, ['VerifiableCredential', 'OpenBadgeCredential']);
    assert.deepEqual(ldp.credential_signing_alg_values_supported, ['eddsa-rdfc-2022']);
    const jwt = configurations[JWT_VC];
    assert.equal(jwt.format, 'jwt_vc_json');
    assert.deepEqual(jwt.credential_definition?.type, ['VerifiableCredential', 'OpenBadgeCredential']);
    assert.deepEqual(jwt.credential_signing_alg_values_supported, ['EdDSA']);
    for (const [id, configuration] of Object.entries(configurations)) {
      assert.deepEqual(sorted(configuration.cryptographic_binding_methods_supported ?? []), ['did:jwk', 'did:key'], id);
      assert.deepEqual(sorted(configuration.proof_types_supported?.jwt?.proof_signing_alg_values_supported ?? []), ['ES256', 'EdDSA'], id);
    }

    // The authorization server is the credential issuer (RFC 8414 metadata at the origin).
    assert.ok(lastSent('/.well-known/oauth-authorization-server'), `the wallet did not fetch the RFC 8414 metadata: ${wire.map((r) => r.url)}`);
    assert.equal(issuerMetadata.authorizationServers.length, 1);
    const as = issuerMetadata.authorizationServers[0];
    assert.equal(as.issuer, base);
    assert.equal(as.token_endpoint, `${base}/oauth/token`);
    assert.ok(as.grant_types_supported?.includes(PRE_AUTHORIZED), JSON.stringify(as.grant_types_supported));
    assert.equal(as['pre-authorized_grant_anonymous_access_supported'], true);
  });

  it('the Ed25519 did:key holder picks up the ldp_vc credential through the wallet, and DCC accepts it', { timeout: 300_000 }, async () => {
    shared.grant = await grant(offer);
    const { accessTokenResponse } = shared.grant;
    assert.equal(typeof accessTokenResponse.access_token, 'string');
    assert.equal(accessTokenResponse.token_type.toLowerCase(), 'bearer', JSON.stringify(accessTokenResponse));
    assert.ok(accessTokenResponse.expires_in > 0 && accessTokenResponse.expires_in <= 300, JSON.stringify(accessTokenResponse));
    assert.equal(typeof accessTokenResponse.c_nonce, 'string', JSON.stringify(accessTokenResponse));
    assert.ok(accessTokenResponse.c_nonce_expires_in > 0, JSON.stringify(accessTokenResponse));
    // The token request as sent: the code and the transaction code, no client authentication.
    const sent = lastSent('/oauth/token');
    assert.equal(sent.method, 'POST');
    assert.equal(sent.headers.get('authorization'), null);
    const form = new URLSearchParams(sent.body);
    assert.equal(form.get('grant_type'), PRE_AUTHORIZED);
    assert.equal(form.get('pre-authorized_code'), offer.credential_offer.grants[PRE_AUTHORIZED]['pre-authorized_code']);
    assert.equal(form.get('tx_code'), offer.tx_code);
    assert.equal(form.get('client_id'), null);
    assert.match(sent.responseHeaders.get('cache-control') ?? '', /no-store/, 'a token response is not cached (RFC 6749 §5.1)');

    const picked = await pickUp(shared.grant, ed, LDP);
    shared.nonce = picked.nonce;
    const nonceAnswer = lastSent('/oid4vci/nonce');
    assert.equal(nonceAnswer.method, 'POST');
    assert.match(nonceAnswer.responseHeaders.get('cache-control') ?? '', /no-store/, 'a nonce is not cached');
    // The proof, as the wallet made it.
    const proof = decodeJwt(picked.proof);
    assert.deepEqual(proof.header, { alg: 'EdDSA', kid: ed.kid, typ: PROOF_TYP });
    assert.equal(proof.payload.aud, base);
    assert.equal(proof.payload.nonce, picked.nonce);
    // The credential request as sent: by configuration id (OID4VCI 1.0), with the access token.
    const request = lastSent('/oid4vci/credential');
    assert.equal(request.headers.get('authorization'), `Bearer ${accessTokenResponse.access_token}`);
    assert.deepEqual(JSON.parse(request.body), { credential_configuration_id: LDP, proofs: { jwt: [picked.proof] } });

    const credential = picked.credential;
    assert.equal(typeof credential, 'object', `an ldp_vc credential is a JSON object: ${JSON.stringify(credential)}`);
    save(files.ldp, credential);
    shared.ldp = credential;
    // Bound to the holder, a copy of the award: its achievement, its issuer, its status entries.
    assert.equal(credential.credentialSubject?.id, ed.did);
    assert.equal(credential.credentialSubject.achievement?.name, awardCredential.credentialSubject.achievement.name);
    assert.equal(credential.credentialSubject.achievement.id, awardCredential.credentialSubject.achievement.id);
    assert.deepEqual(credential.credentialStatus, awardCredential.credentialStatus);
    assert.equal(issuerId(credential), issuerId(awardCredential));
    assert.match(issuerId(credential), /^did:web:/);
    assert.match(credential.id, /^urn:uuid:[0-9a-f-]{36}$/i);
    assert.notEqual(credential.id, awardCredential.id);
    assert.ok([].concat(credential.type).includes('OpenBadgeCredential'), JSON.stringify(credential.type));
    // Nothing else differs from the award's credential: results, evidence, validity, identifier.
    assert.deepEqual(unbound(credential), unbound(awardCredential));
    const proofs = [].concat(credential.proof ?? []);
    assert.deepEqual(proofs.map((p) => [p.type, p.cryptosuite, p.verificationMethod]),
      [].concat(awardCredential.proof).map((p) => [p.type, 'eddsa-rdfc-2022', p.verificationMethod]));

    // DCC, resolving the issuer's did:web and the status lists from the running server.
    const dcc = await peer('verify-ob3-di.mjs', files.ldp, '--strict');
    assert.equal(dcc.json.valid, true, JSON.stringify(dcc.json));
    assert.equal(dcc.json.status?.verified, true, JSON.stringify(dcc.json.status));
    assert.deepEqual(dcc.json.status.entries.map((e) => [e.statusPurpose, e.ok]), [['revocation', true], ['suspension', true]], JSON.stringify(dcc.json.status));
  });

  it('the same access token picks up the jwt_vc_json form with a fresh nonce; PyJWT and jwcrypto accept it', { timeout: 180_000 }, async () => {
    assert.ok(shared.grant, 'needs the access token of the previous test');
    const picked = await pickUp(shared.grant, ed, JWT_VC);
    assert.notEqual(picked.nonce, shared.nonce, 'each nonce is fresh');
    const request = lastSent('/oid4vci/credential');
    assert.deepEqual(JSON.parse(request.body), { credential_configuration_id: JWT_VC, proofs: { jwt: [picked.proof] } });
    assert.equal(typeof picked.credential, 'string', `a jwt_vc_json credential is a compact JWT: ${JSON.stringify(picked.credential)}`);
    assert.match(picked.credential, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    save(files.jwt, picked.credential);

    const result = await peer('verify-ob3-jwt.py', files.jwt, '--strict', '--check-status');
    assert.equal(result.json.valid, true, JSON.stringify(result.json));
    assert.equal(result.json.peers.pyjwt?.signature_valid, true, JSON.stringify(result.json.peers));
    assert.equal(result.json.peers.jwcrypto?.signature_valid, true, JSON.stringify(result.json.peers));
    assert.deepEqual(result.json.status?.map((s) => s.set), [false, false], JSON.stringify(result.json.status));

    const { header, payload } = decodeJwt(picked.credential);
    assert.equal(header.alg, 'EdDSA');
    assert.equal(payload.sub, ed.did);
    assert.equal(payload.credentialSubject?.id, ed.did);
    assert.equal(payload.iss, issuerId(awardCredential));
    assert.equal(payload.credentialSubject.achievement?.name, awardCredential.credentialSubject.achievement.name);
    assert.deepEqual(payload.credentialStatus, awardCredential.credentialStatus);
    assert.match(payload.jti, /^urn:uuid:/);
    assert.notEqual(payload.jti, awardCredential.id);
    assert.equal(payload.jti, payload.id);
    // It states the award's credential, bound to the holder like the Data Integrity copy.
    const stated = Object.fromEntries(Object.entries(payload).filter(([k]) => !JWT_CLAIMS.includes(k)));
    assert.deepEqual(unbound(stated), unbound(awardCredential));
  });

  it('a P-256 holder proving with a jwk header (ES256) gets a credential bound to its did:jwk, which DCC accepts', { timeout: 300_000 }, async () => {
    const second = await newOffer();
    assert.notEqual(second.credential_offer.grants[PRE_AUTHORIZED]['pre-authorized_code'], offer.credential_offer.grants[PRE_AUTHORIZED]['pre-authorized_code']);
    const granted = await grant(second);
    const picked = await pickUp(granted, p256, LDP);
    const proof = decodeJwt(picked.proof);
    assert.equal(proof.header.alg, 'ES256');
    assert.equal(proof.header.typ, PROOF_TYP);
    assert.deepEqual(proof.header.jwk, p256.publicJwk);
    assert.equal(proof.header.kid, undefined);

    const credential = picked.credential;
    assert.equal(typeof credential, 'object', JSON.stringify(credential));
    save(files.p256, credential);
    const subject = credential.credentialSubject?.id ?? '';
    assert.match(subject, /^did:jwk:[\w-]+$/, `bound to a did:jwk: ${subject}`);
    const jwk = b64urlJson(subject.slice('did:jwk:'.length));
    assert.equal(jwk.d, undefined, 'no private key in the DID');
    assert.deepEqual({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { kty: 'EC', crv: 'P-256', x: p256.publicJwk.x, y: p256.publicJwk.y });
    assert.deepEqual(unbound(credential), unbound(awardCredential));
    assert.match(credential.id, /^urn:uuid:/);
    if (shared.ldp) assert.notEqual(credential.id, shared.ldp.id);

    const dcc = await peer('verify-ob3-di.mjs', files.p256, '--strict');
    assert.equal(dcc.json.valid, true, JSON.stringify(dcc.json));
    assert.equal(dcc.json.status?.verified, true, JSON.stringify(dcc.json.status));
  });

  it('refusals: transaction code, nonce reuse, audience, key, configuration, token, code reuse, another learner', { timeout: 120_000 }, async () => {
    // The token endpoint. A missing transaction code (the wallet will not send a request without it).
    const made = await newOffer();
    const code = made.credential_offer.grants[PRE_AUTHORIZED]['pre-authorized_code'];
    expectError('no tx_code', await api('POST', '/oauth/token', { form: { grant_type: PRE_AUTHORIZED, 'pre-authorized_code': code } }), 400, 'invalid_request');
    // A wrong transaction code, through the wallet; the right one still works after it.
    const { credentialOffer, issuerMetadata } = await discover(made);
    const wrong = await rejection(client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: otherCode(made.tx_code) }), Error, 'a wrong tx_code');
    assert.equal(wrong.errorResponse?.error, 'invalid_grant', wrong.message);
    assert.equal(wrong.response?.status, 400, wrong.message);
    const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: made.tx_code });
    const accessToken = accessTokenResponse.access_token;

    // The credential endpoint. A nonce works once: the wallet's proof with a used nonce.
    const granted = { issuerMetadata, accessToken };
    const first = await pickUp(granted, ed, LDP);
    const { jwt: replayed } = await client.createCredentialRequestJwtProof({ issuerMetadata, credentialConfigurationId: LDP, signer: ed.signer, nonce: first.nonce });
    const reused = await rejection(client.retrieveCredentials({ issuerMetadata, accessToken, credentialConfigurationId: LDP, proofs: { jwt: [replayed] } }), oid4vci.Openid4vciRetrieveCredentialsError, 'a reused nonce');
    assert.equal(reused.response.response.status, 400, reused.message);
    assert.equal(reused.response.credentialErrorResponseResult?.data?.error, 'invalid_nonce', reused.message);

    // Proofs made by hand, sent as is. First a good one, so that each refusal below is for its flaw.
    const header = { alg: 'EdDSA', typ: PROOF_TYP, kid: ed.kid };
    const good = signJws(ed, header, proofClaims(await freshNonce()));
    const accepted = await expectOk('a proof made by hand', await credentialRequest(accessToken, { credential_configuration_id: LDP, proofs: { jwt: [good] } }), 200);
    assert.equal(accepted.credentials?.[0]?.credential?.credentialSubject?.id, ed.did, JSON.stringify(accepted));
    // A proof for another audience.
    const audience = signJws(ed, header, proofClaims(await freshNonce(), { aud: 'https://wallet.example.org/another-issuer' }));
    expectError('a proof for another audience', await credentialRequest(accessToken, { credential_configuration_id: LDP, proofs: { jwt: [audience] } }), 400, 'invalid_proof');
    // A proof naming the holder's key but signed by another one.
    const forged = signJws(ed25519Holder(), header, proofClaims(await freshNonce()));
    expectError('a proof signed by another key than its kid', await credentialRequest(accessToken, { credential_configuration_id: LDP, proofs: { jwt: [forged] } }), 400, 'invalid_proof');
    // A configuration the issuer does not offer (the wallet will not ask for one).
    const unknown = signJws(ed, header, proofClaims(await freshNonce()));
    expectError('an unknown configuration', await credentialRequest(accessToken, { credential_configuration_id: 'OpenBadgeCredential_mso_mdoc', proofs: { jwt: [unknown] } }), 400, 'unknown_credential_configuration');

    // No access token: a Bearer challenge (RFC 6750 §3.1: an error code, if any, is invalid_token).
    const anonymous = signJws(ed, header, proofClaims(await freshNonce()));
    const none = await credentialRequest(null, { credential_configuration_id: LDP, proofs: { jwt: [anonymous] } });
    assert.equal(none.status, 401, none.text);
    const noneChallenge = none.headers.get('www-authenticate') ?? '';
    assert.match(noneChallenge, /^Bearer\b/, `no token: WWW-Authenticate ${noneChallenge}`);
    const noneError = /\berror="([^"]*)"/.exec(noneChallenge)?.[1];
    assert.ok(noneError === undefined || noneError === 'invalid_token', `no token: WWW-Authenticate ${noneChallenge}`);
    // A wrong access token, through the wallet, which reads the challenge.
    const wrongToken = await rejection(pickUp({ issuerMetadata, accessToken: `${accessToken}x` }, ed, LDP), oid4vci.Openid4vciRetrieveCredentialsError, 'a wrong access token');
    assert.equal(wrongToken.response.response.status, 401, wrongToken.message);
    const challenge = wrongToken.response.wwwAuthenticate?.find((c) => c.scheme.toLowerCase() === 'bearer');
    assert.equal(challenge?.error, 'invalid_token', JSON.stringify(wrongToken.response.wwwAuthenticate));

    // The pre-authorized code a second time, through the wallet: refused, and the access it gave
    // ends too (RFC 6749 §4.1.2, as docs/wallets.md says).
    const twice = await rejection(client.retrievePreAuthorizedCodeAccessTokenFromOffer({ credentialOffer, issuerMetadata, txCode: made.tx_code }), Error, 'the code used twice');
    assert.equal(twice.errorResponse?.error, 'invalid_grant', twice.message);
    assert.equal(twice.response?.status, 400, twice.message);
    const ended = await rejection(pickUp(granted, ed, LDP), oid4vci.Openid4vciRetrieveCredentialsError, 'the access of a code used twice');
    assert.equal(ended.response.response.status, 401, ended.message);
    assert.equal(ended.response.wwwAuthenticate?.find((c) => c.scheme.toLowerCase() === 'bearer')?.error, 'invalid_token', ended.message);

    // Five wrong transaction codes end an offer: the right code does not work after them.
    const guessed = await newOffer();
    const guessedForm = (txCode) => ({ grant_type: PRE_AUTHORIZED, 'pre-authorized_code': guessed.credential_offer.grants[PRE_AUTHORIZED]['pre-authorized_code'], tx_code: txCode });
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      expectError(`wrong tx_code #${attempt}`, await api('POST', '/oauth/token', { form: guessedForm(otherCode(guessed.tx_code)) }), 400, 'invalid_grant');
    }
    expectError('the right tx_code after five wrong ones', await api('POST', '/oauth/token', { form: guessedForm(guessed.tx_code) }), 400, 'invalid_grant');

    // Another learner's award: the demo learner asks for an offer for the graduate's award.
    const learner = await logIn(LEARNER);
    const foreign = await api('POST', `/api/v1/awards/${award.id}/wallet-offers`, { token: learner, body: {} });
    assert.equal(foreign.status, 404, foreign.text);
  });

  it('the issuer suspends, then revokes the award: no new offer, no pickup, and the wallet copies fail their status check', { timeout: 300_000 }, async () => {
    const issuer = await logIn(ISSUER);
    const setStatus = async (action, reason) => {
      const body = reason ? { action, reason, publish_reason: true } : { action };
      return (await expectOk(action, await api('POST', `/api/v1/awards/${award.id}/status`, { token: issuer, body }), 200)).status;
    };
    const refusedOffer = async (what) => {
      const refused = await api('POST', `/api/v1/awards/${award.id}/wallet-offers`, { token: graduate, body: {} });
      assert.equal(refused.status, 409, `${what}: ${refused.text}`);
      assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/, `${what}: ${refused.headers.get('content-type')}`);
      assert.equal(refused.json?.status, 409, `${what}: ${refused.text}`);
      return refused.json;
    };

    assert.equal(await setStatus('suspend'), 'suspended');
    await refusedOffer('a suspended award');
    assert.equal(await setStatus('reinstate'), 'active');
    // A wallet granted access before the revocation.
    const granted = await grant(await newOffer());

    assert.equal(await setStatus('revoke', REVOCATION_REASON), 'revoked');
    await refusedOffer('a revoked award');
    // Its access no longer picks the badge up.
    const denied = await rejection(pickUp(granted, ed, LDP), oid4vci.Openid4vciRetrieveCredentialsError, 'a pickup after the revocation');
    assert.equal(denied.response.response.status, 400, denied.message);
    assert.equal(denied.response.credentialErrorResponseResult?.data?.error, 'credential_request_denied', denied.message);

    // The wallet copies carry the award's status entries: revoking the award revokes them.
    assert.ok(fs.existsSync(path.join(dir, files.ldp)), 'needs the wallet copy of the flow test');
    const dcc = await peer('verify-ob3-di.mjs', files.ldp, '--strict');
    assert.equal(dcc.json.valid, false, JSON.stringify(dcc.json));
    assert.ok(dcc.json.errors.some((e) => /revocation bit is set .*\(revoked\)/.test(e)), JSON.stringify(dcc.json.errors));
    assert.deepEqual(dcc.json.status?.entries?.map((e) => [e.statusPurpose, e.ok]), [['revocation', false], ['suspension', true]], JSON.stringify(dcc.json.status));
    // Its proof holds: only the status makes it invalid.
    const proofOnly = await peer('verify-ob3-di.mjs', files.ldp, '--strict', '--skip-status');
    assert.equal(proofOnly.json.valid, true, JSON.stringify(proofOnly.json));
    assert.ok(fs.existsSync(path.join(dir, files.p256)), 'needs the wallet copy of the P-256 holder');
    const p256Copy = await peer('verify-ob3-di.mjs', files.p256, '--strict');
    assert.equal(p256Copy.json.valid, false, JSON.stringify(p256Copy.json));
    assert.ok(p256Copy.json.errors.some((e) => /revocation bit is set .*\(revoked\)/.test(e)), JSON.stringify(p256Copy.json.errors));
    assert.ok(fs.existsSync(path.join(dir, files.jwt)), 'needs the VC-JWT wallet copy');
    const jwt = await peer('verify-ob3-jwt.py', files.jwt, '--check-status');
    assert.equal(jwt.json.valid, false, JSON.stringify(jwt.json));
    assert.ok(jwt.json.errors.some((e) => /^status: revocation bit set at index \d+ \(revoked\)$/.test(e)), JSON.stringify(jwt.json.errors));
  });
});
