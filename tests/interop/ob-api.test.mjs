// Interop of the Open Badges 3.0 API and its OAuth 2.0 server: on a running `cairn serve --demo`,
// the npm package openid-client (v6, on oauth4webapi; pinned in tests/interop/peers) acts as a
// host system. It discovers the server (RFC 8414 and the OB 3.0 service description), registers
// itself dynamically (RFC 7591, a confidential and a public client), sends the demo graduate
// through the consent page (PKCE S256, state, RFC 9207 iss), exchanges the code, calls the API
// (profile read and update, credentials read and upsert), refreshes with rotation (a refresh token
// used twice ends the grant) and revokes (RFC 7009). The demo graduate holds two badges imported
// from another issuer and one awarded here (the first recognised as prior learning), so
// `getCredentials` answers real signed credentials. The browser is plain fetch with the session
// cookie and the CSRF double-submit cookie, as in the other interop tests.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importPeer, startDemo } from './lib/cairn.mjs';

const client = await importPeer('openid-client');

const GRADUATE = { email: 'graduate@demo.cairn.test', password: 'cairn-demo-graduate', name: 'Tomás Rivera' };
const SCOPE = {
  credentialReadonly: 'https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly',
  credentialUpsert: 'https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert',
  profileReadonly: 'https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly',
  profileUpdate: 'https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.update',
};
const ALL_SCOPES = Object.values(SCOPE).join(' ');
// A loopback redirect nobody listens on: the browser's redirect is read, never followed.
const REDIRECT = 'http://127.0.0.1:9/callback';
// Double-submit CSRF: a form's field must equal the cookie, which any client may choose.
const CSRF = 'interop-ob-api-csrf-token';
// openid-client refuses plain http unless told; the server's metadata is RFC 8414's, not OIDC's.
const INSECURE = { algorithm: 'oauth2', execute: [client.allowInsecureRequests] };

const sorted = (words) => [...words].sort();
const scopesOf = (text) => sorted(String(text ?? '').split(' ').filter(Boolean));
const typesOf = (value) => [].concat(value ?? []);
const unescapeHtml = (text) => text
  .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
  .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
  .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

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

/** The Bearer challenge's `error` of a WWWAuthenticateChallengeError. */
const challengeError = (error) => error.cause?.find((c) => c.scheme === 'bearer')?.parameters?.error;

describe('openid-client as a host system against the OB 3.0 API and its OAuth 2.0 server', () => {
  let dir;
  let server;
  let base;
  let session; // the graduate's browser session, once signed in through the authorization request
  let confidential; // openid-client Configuration of the confidential client
  let publicClient; // ... and of the public one
  let tokens; // the confidential client's first grant
  const sent = []; // the token and revocation requests openid-client sent, as seen on the wire

  // A browser request: the CSRF cookie, the session cookie once there is one, redirects not followed.
  async function page(method, urlPath, { cookie = session, form } = {}) {
    const cookies = [`cairn_csrf=${CSRF}`];
    if (cookie) cookies.push(cookie);
    const headers = { cookie: cookies.join('; ') };
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const response = await fetch(base + urlPath, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    return { status: response.status, text: await response.text(), location: response.headers.get('location'), cookies: response.headers.getSetCookie() };
  }
  const sessionOf = (response) => response.cookies.map((c) => c.split(';')[0]).find((c) => c.startsWith('cairn_session='));
  async function signIn(who, next) {
    const form = { csrf: CSRF, email: who.email, password: who.password };
    if (next) form.next = next;
    const signedIn = await page('POST', '/login', { cookie: null, form });
    assert.equal(signedIn.status, 303, signedIn.text.slice(0, 500));
    const cookie = sessionOf(signedIn);
    assert.ok(cookie, `no session cookie: ${signedIn.cookies}`);
    return { cookie, location: signedIn.location };
  }

  /** The consent page's form: its hidden fields, in order, and the decisions offered. */
  function consentForm(html) {
    const form = html.match(/<form method="post" action="\/oauth\/authorize"[^>]*>([\s\S]*?)<\/form>/);
    assert.ok(form, `no consent form on the page:\n${html.slice(0, 2000)}`);
    const attributes = (tag) => Object.fromEntries([...tag.matchAll(/([a-z-]+)="([^"]*)"/g)].map((m) => [m[1], unescapeHtml(m[2])]));
    const fields = [...form[1].matchAll(/<input\b[^>]*>/g)].map((m) => attributes(m[0])).filter((a) => a.type === 'hidden').map((a) => [a.name, a.value]);
    const decisions = [...form[1].matchAll(/<button\b[^>]*>/g)].map((m) => attributes(m[0])).filter((a) => a.name === 'decision').map((a) => a.value);
    return { fields, decisions };
  }

  /**
   * An authorization request as openid-client builds it (PKCE S256 and state), answered by the
   * signed-in graduate on the consent page. Returns the checks and the callback URL the browser
   * was sent back to (`new URL(Location)`), and the consent form.
   */
  async function authorize(config, { scope = ALL_SCOPES, decision = 'allow' } = {}) {
    const pkceCodeVerifier = client.randomPKCECodeVerifier();
    const expectedState = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: expectedState,
    });
    assert.equal(url.origin + url.pathname, `${base}/oauth/authorize`);
    const consent = await page('GET', url.pathname + url.search);
    assert.equal(consent.status, 200, consent.text.slice(0, 1000));
    const form = consentForm(consent.text);
    const answer = await page('POST', '/oauth/authorize', { form: [...form.fields, ['decision', decision]] });
    assert.equal(answer.status, 303, answer.text.slice(0, 1000));
    return { pkceCodeVerifier, expectedState, callback: new URL(answer.location), form };
  }

  /** An allowed authorization request exchanged for tokens. */
  async function grant(config, options) {
    const { pkceCodeVerifier, expectedState, callback } = await authorize(config, options);
    return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier, expectedState });
  }

  /** An OB API call by openid-client: the response, its JSON body read. */
  async function ob(config, accessToken, method, urlPath, body, contentType) {
    const headers = new Headers();
    if (contentType) headers.set('content-type', contentType);
    const response = await client.fetchProtectedResource(config, accessToken, new URL(`${base}/ims/ob/v3p0${urlPath}`), method, body, headers);
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, json, text, headers: response.headers };
  }

  // Records what openid-client sends to the token and revocation endpoints.
  const recordingFetch = (url, options) => {
    const address = new URL(url);
    if (address.pathname === '/oauth/token' || address.pathname === '/oauth/revoke') {
      sent.push({ path: address.pathname, authorization: new Headers(options.headers).get('authorization'), body: new URLSearchParams(String(options.body)) });
    }
    return fetch(url, options);
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ob-api-'));
    server = await startDemo(dir);
    base = server.base;
  }, { timeout: 120_000 });

  after(async () => {
    if (server) await server.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  it('the service description and the RFC 8414 metadata name the same endpoints and the four scopes', async () => {
    const response = await fetch(`${base}/ims/ob/v3p0/discovery`, { signal: AbortSignal.timeout(30_000) });
    assert.equal(response.status, 200);
    const described = await response.json();
    assert.match(described.openapi, /^3\.0/);
    const scheme = described.components?.securitySchemes?.OAuth2ACG;
    assert.equal(scheme?.type, 'oauth2', JSON.stringify(described.components));
    assert.equal(scheme['x-imssf-registrationUrl'], `${base}/oauth/register`);
    const flow = scheme.flows.authorizationCode;
    assert.equal(flow.authorizationUrl, `${base}/oauth/authorize`);
    assert.equal(flow.tokenUrl, `${base}/oauth/token`);
    assert.equal(flow.refreshUrl, `${base}/oauth/token`);
    assert.deepEqual(sorted(Object.keys(flow.scopes)), sorted(Object.values(SCOPE)));

    // openid-client's discovery: the issuer is checked against the address it was asked.
    const discovered = await client.discovery(new URL(base), 'not-registered-yet', undefined, undefined, INSECURE);
    const metadata = discovered.serverMetadata();
    assert.equal(metadata.issuer, base);
    assert.equal(metadata.registration_endpoint, scheme['x-imssf-registrationUrl']);
    assert.equal(metadata.authorization_endpoint, flow.authorizationUrl);
    assert.equal(metadata.token_endpoint, flow.tokenUrl);
    assert.equal(metadata.revocation_endpoint, `${base}/oauth/revoke`);
    assert.deepEqual(sorted(metadata.scopes_supported), sorted(Object.values(SCOPE)));
    assert.ok(metadata.supportsPKCE('S256'), JSON.stringify(metadata));
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  });

  it('openid-client registers a confidential and a public client (RFC 7591)', async () => {
    // dynamicClientRegistration accepts only a 201 answer.
    confidential = await client.dynamicClientRegistration(new URL(base), {
      client_name: 'openid-client interop host (confidential)',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: ALL_SCOPES,
    }, client.ClientSecretBasic(), { ...INSECURE, [client.customFetch]: recordingFetch });
    const registered = confidential.clientMetadata();
    assert.ok(registered.client_id, JSON.stringify(registered));
    assert.ok(typeof registered.client_secret === 'string' && registered.client_secret.length >= 16, JSON.stringify(registered));
    assert.equal(registered.client_secret_expires_at, 0);
    assert.equal(registered.token_endpoint_auth_method, 'client_secret_basic');
    assert.deepEqual(sorted(registered.grant_types), ['authorization_code', 'refresh_token']);
    assert.deepEqual(registered.redirect_uris, [REDIRECT]);
    assert.deepEqual(scopesOf(registered.scope), sorted(Object.values(SCOPE)));

    publicClient = await client.dynamicClientRegistration(new URL(base), {
      client_name: 'openid-client interop host (public)',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      scope: `${SCOPE.profileReadonly} ${SCOPE.credentialReadonly}`,
    }, client.None(), { ...INSECURE, [client.customFetch]: recordingFetch });
    const registeredPublic = publicClient.clientMetadata();
    assert.ok(registeredPublic.client_id);
    assert.notEqual(registeredPublic.client_id, registered.client_id);
    assert.equal(registeredPublic.client_secret, undefined, JSON.stringify(registeredPublic));
    assert.equal(registeredPublic.token_endpoint_auth_method, 'none');
  });

  it('the graduate signs in, allows access on the consent page, and the code is exchanged with PKCE', async () => {
    // Signed out, the authorization request sends the browser to sign in and come back.
    const url = client.buildAuthorizationUrl(confidential, {
      redirect_uri: REDIRECT, scope: ALL_SCOPES, state: client.randomState(), code_challenge_method: 'S256',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    });
    const signedOut = await page('GET', url.pathname + url.search, { cookie: null });
    assert.equal(signedOut.status, 303, signedOut.text.slice(0, 500));
    const login = new URL(signedOut.location, base);
    assert.equal(login.pathname, '/login');
    assert.equal(login.searchParams.get('next'), url.pathname + url.search);
    const signedIn = await signIn(GRADUATE, login.searchParams.get('next'));
    assert.equal(signedIn.location, url.pathname + url.search);
    session = signedIn.cookie;

    // Signed in: the consent page, its answer, and openid-client's code exchange.
    const { pkceCodeVerifier, expectedState, callback, form } = await authorize(confidential);
    const hidden = Object.fromEntries(form.fields);
    assert.deepEqual(sorted(Object.keys(hidden)), sorted(['csrf', 'response_type', 'client_id', 'redirect_uri', 'scope', 'code_challenge', 'code_challenge_method', 'state']));
    assert.equal(hidden.client_id, confidential.clientMetadata().client_id);
    assert.equal(hidden.redirect_uri, REDIRECT);
    assert.equal(hidden.state, expectedState);
    assert.deepEqual(sorted(form.decisions), ['allow', 'deny']);
    assert.equal(callback.origin + callback.pathname, REDIRECT);
    assert.ok(callback.searchParams.get('code'), callback.href);
    assert.equal(callback.searchParams.get('state'), expectedState);
    assert.equal(callback.searchParams.get('iss'), base);

    const mark = sent.length;
    tokens = await client.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier, expectedState });
    assert.equal(tokens.token_type, 'bearer'); // oauth4webapi lower-cases it
    assert.ok(Number.isInteger(tokens.expires_in) && tokens.expires_in > 0, JSON.stringify(tokens));
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token, 'a client registered for refresh_token gets a refresh token');
    assert.deepEqual(scopesOf(tokens.scope), sorted(Object.values(SCOPE)));
    // client_secret_basic on the wire, with the verifier.
    const request = sent.slice(mark).find((r) => r.path === '/oauth/token');
    assert.match(request.authorization ?? '', /^Basic /);
    assert.equal(request.body.get('code_verifier'), pkceCodeVerifier);
  });

  it('the API answers the profile and the signed credentials, updates the name and takes back an own credential', async () => {
    const token = tokens.access_token;
    const profile = await ob(confidential, token, 'GET', '/profile');
    assert.equal(profile.status, 200, profile.text);
    assert.equal(profile.json.name, GRADUATE.name);
    assert.equal(profile.json.email, GRADUATE.email);
    assert.ok(typesOf(profile.json.type).includes('Profile'), profile.text);

    const all = await ob(confidential, token, 'GET', '/credentials');
    assert.equal(all.status, 200, all.text);
    const credentials = all.json.credential;
    assert.ok(Array.isArray(credentials) && credentials.length >= 1, all.text.slice(0, 500));
    assert.ok(Array.isArray(all.json.compactJwsString), all.text.slice(0, 500));
    for (const credential of credentials) {
      assert.ok(typesOf(credential.type).includes('OpenBadgeCredential'), JSON.stringify(credential.type));
      assert.ok(credential.proof, `${credential.id} has no proof`);
    }
    const total = Number(all.headers.get('x-total-count'));
    assert.ok(total >= 1, `X-Total-Count: ${all.headers.get('x-total-count')}`);
    assert.equal(total, credentials.length + all.json.compactJwsString.length);
    // Among them, the award issued here (its id is its address on this server).
    const awarded = credentials.find((c) => c.id?.startsWith(`${base}/awards/`));
    assert.ok(awarded, `no credential issued here: ${credentials.map((c) => c.id)}`);

    const first = await ob(confidential, token, 'GET', '/credentials?limit=1');
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.credential.length + first.json.compactJwsString.length, 1);
    assert.equal(first.headers.get('x-total-count'), String(total));
    if (total > 1) {
      const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get('link') ?? '');
      assert.ok(next, `no rel="next" in Link: ${first.headers.get('link')}`);
      assert.equal(new URL(next[1]).searchParams.get('offset'), '1');
    }

    // putProfile changes the name; getProfile shows it; then it is put back.
    const renamed = `${GRADUATE.name} Okoye`;
    const put = await ob(confidential, token, 'PUT', '/profile', JSON.stringify({ type: ['Profile'], name: renamed }), 'application/json');
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.name, renamed);
    assert.equal((await ob(confidential, token, 'GET', '/profile')).json.name, renamed);
    const back = await ob(confidential, token, 'PUT', '/profile', JSON.stringify({ ...profile.json, name: GRADUATE.name }), 'application/json');
    assert.equal(back.status, 200, back.text);
    assert.equal((await ob(confidential, token, 'GET', '/profile')).json.name, GRADUATE.name);

    // upsertCredential with the graduate's own award: verified, held already (200), nothing added.
    const upserted = await ob(confidential, token, 'POST', '/credentials', JSON.stringify(awarded), 'application/json');
    assert.equal(upserted.status, 200, upserted.text.slice(0, 1000));
    assert.equal(upserted.json?.id, awarded.id);
    assert.equal(Number((await ob(confidential, token, 'GET', '/credentials')).headers.get('x-total-count')), total);
  });

  it('a token with profile.readonly alone reads the profile, and gets 403 insufficient_scope for credentials', async () => {
    const narrow = await grant(confidential, { scope: SCOPE.profileReadonly });
    assert.deepEqual(scopesOf(narrow.scope), [SCOPE.profileReadonly]);
    assert.equal((await ob(confidential, narrow.access_token, 'GET', '/profile')).status, 200);
    const error = await rejection(ob(confidential, narrow.access_token, 'GET', '/credentials'), client.WWWAuthenticateChallengeError, 'GET /credentials');
    assert.equal(error.status, 403);
    assert.equal(challengeError(error), 'insufficient_scope', JSON.stringify(error.cause));
    const body = await error.response.json();
    assert.equal(body.imsx_codeMajor, 'failure', JSON.stringify(body));
    const upsert = await rejection(ob(confidential, narrow.access_token, 'PUT', '/profile', JSON.stringify({ type: 'Profile', name: 'Nobody' }), 'application/json'), client.WWWAuthenticateChallengeError, 'PUT /profile');
    assert.equal(challengeError(upsert), 'insufficient_scope');
  });

  it('a learner who does not allow access sends back access_denied with the state and iss', async () => {
    const { pkceCodeVerifier, expectedState, callback } = await authorize(confidential, { decision: 'deny' });
    assert.equal(callback.origin + callback.pathname, REDIRECT);
    assert.equal(callback.searchParams.get('error'), 'access_denied', callback.href);
    assert.equal(callback.searchParams.get('state'), expectedState);
    assert.equal(callback.searchParams.get('iss'), base);
    assert.equal(callback.searchParams.get('code'), null);
    const error = await rejection(client.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier, expectedState }), client.AuthorizationResponseError, 'denied');
    assert.equal(error.error, 'access_denied');
  });

  it('PKCE is enforced: a wrong code_verifier is invalid_grant, a request without code_challenge is sent back', async () => {
    const { expectedState, callback } = await authorize(confidential);
    const wrong = await rejection(
      client.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState }),
      client.ResponseBodyError, 'wrong code_verifier',
    );
    assert.equal(wrong.error, 'invalid_grant', JSON.stringify(wrong.cause));
    assert.equal(wrong.status, 400);

    const state = client.randomState();
    const url = client.buildAuthorizationUrl(confidential, { redirect_uri: REDIRECT, scope: ALL_SCOPES, state });
    const refused = await page('GET', url.pathname + url.search);
    assert.equal(refused.status, 303, refused.text.slice(0, 500));
    const location = new URL(refused.location);
    assert.equal(location.origin + location.pathname, REDIRECT);
    assert.equal(location.searchParams.get('error'), 'invalid_request', location.href);
    assert.equal(location.searchParams.get('state'), state);
    assert.equal(location.searchParams.get('iss'), base);
    const error = await rejection(client.authorizationCodeGrant(confidential, location, { expectedState: state }), client.AuthorizationResponseError, 'no PKCE');
    assert.equal(error.error, 'invalid_request');
  });

  it('a refresh rotates the tokens; the old refresh token used again ends the whole grant', async () => {
    const old = tokens;
    const refreshed = await client.refreshTokenGrant(confidential, old.refresh_token);
    assert.notEqual(refreshed.access_token, old.access_token);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== old.refresh_token, 'a refresh gives a new refresh token');
    assert.deepEqual(scopesOf(refreshed.scope), sorted(Object.values(SCOPE)));
    assert.equal((await ob(confidential, refreshed.access_token, 'GET', '/profile')).status, 200);

    const reused = await rejection(client.refreshTokenGrant(confidential, old.refresh_token), client.ResponseBodyError, 'refresh token used twice');
    assert.equal(reused.error, 'invalid_grant', JSON.stringify(reused.cause));
    // The reuse revoked the grant: the tokens of the refresh no longer work either.
    const revoked = await rejection(ob(confidential, refreshed.access_token, 'GET', '/profile'), client.WWWAuthenticateChallengeError, 'the refreshed access token');
    assert.equal(revoked.status, 401);
    assert.equal(challengeError(revoked), 'invalid_token');
    const again = await rejection(client.refreshTokenGrant(confidential, refreshed.refresh_token), client.ResponseBodyError, 'the refreshed refresh token');
    assert.equal(again.error, 'invalid_grant');
  });

  it('revoking the access token stops the API at once; revoking the refresh token stops refreshes (RFC 7009)', async () => {
    const fresh = await grant(confidential);
    assert.equal((await ob(confidential, fresh.access_token, 'GET', '/profile')).status, 200);
    const mark = sent.length;
    await client.tokenRevocation(confidential, fresh.access_token, { token_type_hint: 'access_token' });
    assert.match(sent.slice(mark).find((r) => r.path === '/oauth/revoke')?.authorization ?? '', /^Basic /);
    const error = await rejection(ob(confidential, fresh.access_token, 'GET', '/profile'), client.WWWAuthenticateChallengeError, 'a revoked access token');
    assert.equal(error.status, 401);
    assert.equal(challengeError(error), 'invalid_token', JSON.stringify(error.cause));

    await client.tokenRevocation(confidential, fresh.refresh_token, { token_type_hint: 'refresh_token' });
    const refresh = await rejection(client.refreshTokenGrant(confidential, fresh.refresh_token), client.ResponseBodyError, 'a revoked refresh token');
    assert.equal(refresh.error, 'invalid_grant', JSON.stringify(refresh.cause));
  });

  it('the public client completes the code flow with PKCE alone', async () => {
    const mark = sent.length;
    const scope = `${SCOPE.credentialReadonly} ${SCOPE.profileReadonly}`;
    const publicTokens = await grant(publicClient, { scope });
    const request = sent.slice(mark).find((r) => r.path === '/oauth/token');
    assert.equal(request.authorization, null, 'a public client sends no credentials');
    assert.equal(request.body.get('client_id'), publicClient.clientMetadata().client_id);
    assert.equal(request.body.get('client_secret'), null);
    assert.ok(request.body.get('code_verifier'));
    assert.equal(publicTokens.token_type, 'bearer');
    assert.deepEqual(scopesOf(publicTokens.scope), sorted(scope.split(' ')));
    const profile = await ob(publicClient, publicTokens.access_token, 'GET', '/profile');
    assert.equal(profile.status, 200, profile.text);
    assert.equal(profile.json.email, GRADUATE.email);
    const credentials = await ob(publicClient, publicTokens.access_token, 'GET', '/credentials?limit=1');
    assert.equal(credentials.status, 200, credentials.text);
  });
});
