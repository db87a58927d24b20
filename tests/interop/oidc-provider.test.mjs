// A self-test of the local OpenID Provider the "Sign in with an identity provider" interop tests
// run (tests/interop/lib/oidc.mjs: the npm package oidc-provider, pinned in tests/interop/peers),
// with no Cairn at all: the npm package openid-client (v6, also pinned there) is the relying
// party, a Node `http` server on a free loopback port its redirect URI, and `browse` the user's
// browser. It proves what the Cairn tests rely on: the discovery document names the code flow,
// PKCE S256, client_secret_basic and _post, RS256 and ES256; a user who types her e-mail on the
// login page comes back to the redirect URI with a code, state and iss, and the code grant
// (client_secret_basic, PKCE, state and nonce checked, ID token signature checked against the
// JWKS) gives an RS256 ID token that itself carries sub, email, email_verified, name and the
// nonce; the same browser signs in again without the form; an unknown login re-renders the form
// with an error; a request without PKCE comes back as invalid_request; a wrong client secret is
// refused at the token endpoint; client_secret_post works for a client registered so (and, as
// oidc-provider 9 allows, for one registered with client_secret_basic: the harness's
// tokenRequests tells which was used); a cancelled sign-in is access_denied; setClient adds a
// client at run time; setAccount changes the claims of the next sign-in.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { importPeer } from './lib/cairn.mjs';
import { browse, CookieJar, startProvider } from './lib/oidc.mjs';

const client = await importPeer('openid-client');

const SCOPE = 'openid email profile';
const ZOE = {
  sub: 'user-zoe-0001',
  claims: { email: 'zoe.okafor@idp.example', email_verified: true, name: 'Zoë Okafor', given_name: 'Zoë', family_name: 'Okafor' },
};
const BASIC = { client_id: 'cairn-basic', client_secret: 'basic-secret-that-is-long-enough-0123456789' };
const POST = { client_id: 'cairn-post', client_secret: 'post-secret-that-is-long-enough-0123456789', token_endpoint_auth_method: 'client_secret_post' };
// openid-client refuses plain http unless told.
const INSECURE = { execute: [client.allowInsecureRequests] };

const sorted = (words) => [...words].sort();
const decodeJwtPart = (jwt, index) => JSON.parse(Buffer.from(jwt.split('.')[index], 'base64url').toString('utf8'));

/** Awaits `promise`, which must reject with an instance of `type`; returns the error. */
async function rejection(promise, type, what) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `${what}: expected ${type.name}, got ${error?.name}: ${error?.message} ${JSON.stringify(error?.cause ?? null)}`);
    return error;
  }
  assert.fail(`${what}: expected ${type.name}, but it succeeded`);
}

/** The relying party's redirect URI: a loopback server that answers 200 and remembers each query. */
async function startCallback() {
  const received = [];
  const server = http.createServer((req, res) => {
    received.push(new URL(req.url, 'http://127.0.0.1'));
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('callback received\n');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); });
  return { url: `http://127.0.0.1:${server.address().port}/callback`, received, stop };
}

describe('the local OpenID Provider (oidc-provider) with openid-client as the relying party', () => {
  let op;
  let callback;
  let config; // openid-client Configuration of the client_secret_basic client
  const sent = []; // token requests as openid-client sent them

  // Records what openid-client sends to the token endpoint.
  const recordingFetch = (url, options) => {
    if (new URL(url).pathname === '/token') {
      sent.push({ authorization: new Headers(options.headers).get('authorization'), body: new URLSearchParams(String(options.body)) });
    }
    return fetch(url, options);
  };

  const discover = (registered, auth) => client.discovery(new URL(op.issuer), registered.client_id, undefined, auth, {
    ...INSECURE, [client.customFetch]: recordingFetch,
  });

  /** An authorization request as openid-client builds it: PKCE S256, state and nonce (each optional). */
  async function request(rpConfig, { pkce = true, scope = SCOPE } = {}) {
    const checks = { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: client.randomState(), expectedNonce: client.randomNonce() };
    const parameters = { redirect_uri: callback.url, scope, state: checks.expectedState, nonce: checks.expectedNonce };
    if (pkce) {
      parameters.code_challenge = await client.calculatePKCECodeChallenge(checks.pkceCodeVerifier);
      parameters.code_challenge_method = 'S256';
    }
    return { url: client.buildAuthorizationUrl(rpConfig, parameters), checks };
  }

  /** Sends `login` through the login form; the browser must end at the redirect URI. */
  async function signIn(url, login, jar = new CookieJar()) {
    const landed = await browse(url, { login, jar });
    assert.equal(landed.url.split('?')[0], callback.url, `the browser did not come back to the redirect URI: ${landed.status} ${landed.url}\nhops: ${landed.hops.join('\n  ')}\n${landed.text.slice(0, 800)}`);
    assert.equal(landed.status, 200, landed.text);
    assert.equal(callback.received.at(-1)?.search, new URL(landed.url).search, 'the redirect URI server did not see the final request');
    return landed;
  }

  before(async () => {
    callback = await startCallback();
    op = await startProvider({
      clients: [{ ...BASIC, redirect_uris: [callback.url] }, { ...POST, redirect_uris: [callback.url] }],
      accounts: { [ZOE.sub]: ZOE.claims },
    });
    assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    config = await discover(BASIC, client.ClientSecretBasic(BASIC.client_secret));
    client.enableNonRepudiationChecks(config); // ID token signatures checked against jwks_uri
  });

  after(async () => {
    await op?.stop();
    await callback?.stop();
  });

  it('the discovery document names the code flow, PKCE S256, the two secret methods and RS256/ES256', async () => {
    const metadata = config.serverMetadata();
    assert.equal(metadata.issuer, op.issuer);
    assert.deepEqual(metadata.response_types_supported, ['code']);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(sorted(metadata.token_endpoint_auth_methods_supported), ['client_secret_basic', 'client_secret_post']);
    assert.deepEqual(sorted(metadata.scopes_supported), sorted(SCOPE.split(' ')));
    for (const claim of ['sub', 'email', 'email_verified', 'name', 'given_name', 'family_name']) {
      assert.ok(metadata.claims_supported.includes(claim), `claims_supported lacks ${claim}: ${metadata.claims_supported}`);
    }
    assert.deepEqual(sorted(metadata.id_token_signing_alg_values_supported), ['ES256', 'RS256']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    const jwks = await (await fetch(metadata.jwks_uri, { signal: AbortSignal.timeout(10_000) })).json();
    assert.deepEqual(sorted(jwks.keys.map((k) => `${k.kty}/${k.alg}`)), ['EC/ES256', 'RSA/RS256']);
    assert.ok(jwks.keys.every((k) => k.kid && k.d === undefined), `the JWKS must be public keys with a kid: ${JSON.stringify(jwks)}`);
  });

  it('a user signs in by e-mail; the code grant (client_secret_basic) gives an RS256 ID token with her claims', async () => {
    const jar = new CookieJar();
    const { url, checks } = await request(config);
    const firstPage = await browse(url, { jar });
    assert.equal(firstPage.status, 200);
    assert.match(firstPage.url, new RegExp(`^${op.issuer}/interaction/[^/]+$`));
    assert.match(firstPage.text, /<form method="post" action="\/interaction\/[^/"]+\/login"/);
    assert.match(firstPage.text, /<input[^>]*name="login"/);
    assert.match(firstPage.text, /<button type="submit">Sign in<\/button>/);
    assert.ok(jar.get(op.issuer, '_interaction'), 'the interaction cookie is in the jar');

    const landed = await signIn(url, ZOE.claims.email, jar);
    const answer = new URL(landed.url).searchParams;
    assert.ok(answer.get('code'), `no code: ${landed.url}`);
    assert.equal(answer.get('state'), checks.expectedState);
    assert.equal(answer.get('iss'), op.issuer);

    const before = sent.length;
    const tokens = await client.authorizationCodeGrant(config, new URL(landed.url), checks);
    const onTheWire = sent[before];
    assert.match(onTheWire.authorization ?? '', /^Basic /, 'openid-client authenticated with client_secret_basic');
    assert.equal(onTheWire.body.get('client_secret'), null);
    assert.ok(onTheWire.body.get('code_verifier'), 'the token request carried the PKCE verifier');
    assert.deepEqual(op.tokenRequests.at(-1), {
      client_id: BASIC.client_id, registered: 'client_secret_basic', method: 'client_secret_basic', grant_type: 'authorization_code', code_verifier: true, status: 200, error: undefined,
    });

    const claims = tokens.claims();
    assert.equal(claims.iss, op.issuer);
    assert.equal(claims.aud, BASIC.client_id);
    assert.equal(claims.sub, ZOE.sub);
    assert.equal(claims.nonce, checks.expectedNonce);
    assert.equal(claims.email, ZOE.claims.email, 'email is in the ID token itself');
    assert.equal(claims.email_verified, true);
    assert.equal(claims.name, ZOE.claims.name);
    assert.equal(claims.given_name, ZOE.claims.given_name);
    assert.equal(claims.family_name, ZOE.claims.family_name);
    assert.equal(decodeJwtPart(tokens.id_token, 0).alg, 'RS256');
    assert.deepEqual(sorted(tokens.scope.split(' ')), sorted(SCOPE.split(' ')));

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, ZOE.sub);
    assert.equal(userinfo.email, ZOE.claims.email);
    assert.equal(userinfo.name, ZOE.claims.name);

    // The same browser, a new request: the provider's session and grant answer without a form.
    const again = await request(config);
    const relanded = await signIn(again.url, undefined, jar);
    assert.ok(!relanded.hops.some((hop) => hop.includes('/interaction/')), `signed in again without a page: ${relanded.hops}`);
    const second = await client.authorizationCodeGrant(config, new URL(relanded.url), again.checks);
    assert.equal(second.claims().sub, ZOE.sub);
    assert.equal(second.claims().nonce, again.checks.expectedNonce);
  });

  it('an unknown login re-renders the form with an error; the sub is a login too', async () => {
    const jar = new CookieJar();
    const { url, checks } = await request(config);
    const refused = await browse(url, { login: 'nobody@idp.example', jar });
    assert.equal(refused.status, 400);
    assert.match(refused.url, new RegExp(`^${op.issuer}/interaction/[^/]+/login$`));
    assert.match(refused.text, /role="alert">Unknown account/);
    assert.match(refused.text, /<button type="submit">Sign in<\/button>/);
    assert.match(refused.text, /value="nobody@idp\.example"/, 'the form keeps what was typed');
    assert.equal(refused.hops.filter((hop) => hop.endsWith('/login')).length, 1, 'the login is sent once');
    assert.ok(!callback.received.some((seen) => seen.searchParams.get('state') === checks.expectedState), 'nothing reached the redirect URI');

    // The same interaction, now with the account's sub.
    const landed = await browse(refused.url, { method: 'POST', body: { login: ZOE.sub }, jar });
    assert.equal(landed.url.split('?')[0], callback.url, `${landed.status} ${landed.url}\n${landed.text.slice(0, 500)}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(landed.url), checks);
    assert.equal(tokens.claims().sub, ZOE.sub);
  });

  it('a request without PKCE comes back to the redirect URI as invalid_request', async () => {
    const { url, checks } = await request(config, { pkce: false });
    const landed = await signIn(url, ZOE.claims.email);
    assert.ok(!landed.hops.some((hop) => hop.includes('/interaction/')), `refused before any page: ${landed.hops}`);
    const answer = new URL(landed.url).searchParams;
    assert.equal(answer.get('error'), 'invalid_request', landed.url);
    assert.match(answer.get('error_description') ?? '', /PKCE/);
    assert.equal(answer.get('state'), checks.expectedState);
    assert.equal(answer.get('code'), null);
    const error = await rejection(client.authorizationCodeGrant(config, new URL(landed.url), checks), client.AuthorizationResponseError, 'no PKCE');
    assert.equal(error.error, 'invalid_request');
  });

  it('a wrong client secret is refused at the token endpoint (invalid_client)', async () => {
    const wrong = await discover(BASIC, client.ClientSecretBasic('not-the-secret'));
    const { url, checks } = await request(wrong);
    const landed = await signIn(url, ZOE.claims.email);
    // A 401 with a Basic challenge: openid-client reports the challenge.
    const error = await rejection(client.authorizationCodeGrant(wrong, new URL(landed.url), checks), client.WWWAuthenticateChallengeError, 'wrong secret');
    assert.equal(error.status, 401);
    assert.equal(error.cause?.find((c) => c.scheme === 'basic')?.parameters?.error, 'invalid_client', JSON.stringify(error.cause));
    assert.equal(op.tokenRequests.at(-1).error, 'invalid_client');
  });

  it('a client registered with client_secret_post authenticates in the body', async () => {
    const post = await discover(POST, client.ClientSecretPost(POST.client_secret));
    const { url, checks } = await request(post);
    const landed = await signIn(url, ZOE.claims.email);
    const before = sent.length;
    const tokens = await client.authorizationCodeGrant(post, new URL(landed.url), checks);
    assert.equal(sent[before].authorization, null);
    assert.equal(sent[before].body.get('client_secret'), POST.client_secret);
    assert.equal(tokens.claims().aud, POST.client_id);
    assert.equal(tokens.claims().email, ZOE.claims.email);
    assert.equal(op.tokenRequests.at(-1).method, 'client_secret_post');

    // oidc-provider 9 lets a client registered for one of the two use the other; tokenRequests
    // tells them apart, for a test that must know which one a relying party used.
    const switched = await discover(BASIC, client.ClientSecretPost(BASIC.client_secret));
    const other = await request(switched);
    const relanded = await signIn(other.url, ZOE.claims.email);
    await client.authorizationCodeGrant(switched, new URL(relanded.url), other.checks);
    const seen = op.tokenRequests.at(-1);
    assert.deepEqual([seen.client_id, seen.registered, seen.method, seen.status], [BASIC.client_id, 'client_secret_basic', 'client_secret_post', 200]);
  });

  it('a cancelled sign-in comes back as access_denied', async () => {
    const jar = new CookieJar();
    const { url, checks } = await request(config);
    const form = await browse(url, { jar });
    const landed = await browse(`${form.url}/abort`, { jar });
    assert.equal(landed.url.split('?')[0], callback.url, `${landed.status} ${landed.url}`);
    const answer = new URL(landed.url).searchParams;
    assert.equal(answer.get('error'), 'access_denied');
    assert.equal(answer.get('state'), checks.expectedState);
  });

  it('setClient adds a client at run time, and refuses invalid metadata', async () => {
    const late = { client_id: 'cairn-late', client_secret: 'late-secret-that-is-long-enough-0123456789', redirect_uris: [callback.url] };
    await op.setClient(late);
    const lateConfig = await discover(late, client.ClientSecretBasic(late.client_secret));
    const { url, checks } = await request(lateConfig);
    const landed = await signIn(url, ZOE.sub);
    assert.equal((await client.authorizationCodeGrant(lateConfig, new URL(landed.url), checks)).claims().aud, late.client_id);
    await assert.rejects(op.setClient({ client_id: 'cairn-broken', client_secret: 'x', redirect_uris: ['not a url'] }), /cairn-broken refused/);
  });

  it('setAccount changes the claims of the next sign-in', async () => {
    op.setAccount(ZOE.sub, { ...ZOE.claims, name: 'Zoë Okafor-Reyes', email_verified: false });
    op.setAccount('user-new-0002', { email: 'new.person@idp.example', email_verified: true, name: 'New Person' });
    try {
      for (const [login, sub, name, verified] of [
        [ZOE.claims.email, ZOE.sub, 'Zoë Okafor-Reyes', false],
        ['New.Person@IDP.example', 'user-new-0002', 'New Person', true],
      ]) {
        const { url, checks } = await request(config);
        const landed = await signIn(url, login);
        const claims = (await client.authorizationCodeGrant(config, new URL(landed.url), checks)).claims();
        assert.equal(claims.sub, sub, `login ${login}`);
        assert.equal(claims.name, name);
        assert.equal(claims.email_verified, verified);
      }
    } finally {
      op.setAccount(ZOE.sub, ZOE.claims);
    }
  });
});
