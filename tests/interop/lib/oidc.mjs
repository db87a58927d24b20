// A local OpenID Provider for the interop tests of "Sign in with an identity provider": the npm
// package oidc-provider (panva; pinned in tests/interop/peers) run in-process on a free loopback
// port, with its own minimal login page, and `browse`, a browser-less user agent (redirects and a
// cookie jar) that signs a user in through that page.
//
// What the provider requires of a relying party: the authorization code flow (response_type
// `code` only), PKCE with S256 on every request (else `invalid_request` at the redirect URI),
// client authentication at the token endpoint by `client_secret_basic` (the default) or
// `client_secret_post`, an exact redirect URI. Scopes `openid email profile`; the ID token
// (RS256 unless the client registered `id_token_signed_response_alg: 'ES256'`) carries the
// claims of the granted scopes itself (`email`, `email_verified`, `name`, `given_name`,
// `family_name`), not only the userinfo endpoint (conformIdTokenClaims: false), and the nonce.
// The login page signs in whoever types an account's sub or e-mail; consent is given without a
// page. `GET /interaction/:uid/abort` answers the request with `access_denied`. Clients can be
// added at run time (setClient), and the token requests are logged (tokenRequests).
import crypto from 'node:crypto';
import http from 'node:http';
import { importPeer } from './cairn.mjs';

const { default: Provider, errors: OidcErrors } = await importPeer('oidc-provider');

const SCOPES = ['openid', 'email', 'profile'];
const CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name'],
};
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];
const MAX_HOPS = 20;
const REQUEST_TIMEOUT_MS = 30_000;

const escapeHtml = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

/** Signing keys as private JWKs: RSA for RS256 (the default, listed first) and P-256 for ES256. */
function signingKeys() {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [{ ...rsa, use: 'sig', alg: 'RS256' }, { ...ec, use: 'sig', alg: 'ES256' }];
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

async function readForm(req, limit = 64 * 1024) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('request body too large');
  }
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(html);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

function loginPage(uid, { clientId, loginHint = '', error } = {}) {
  const alert = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>\n` : '';
  return page('Sign in to the test identity provider', `<p>Client <code>${escapeHtml(clientId)}</code> asks you to sign in.</p>
${alert}<form method="post" action="/interaction/${escapeHtml(uid)}/login" id="login-form">
<label for="login">Account (sub or e-mail)</label>
<input id="login" name="login" type="text" value="${escapeHtml(loginHint)}" autocomplete="username" required>
<button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>`);
}

/**
 * Starts oidc-provider on a free 127.0.0.1 port (issuer `http://127.0.0.1:PORT`, no trailing
 * slash), with `clients` (`{ client_id, client_secret, redirect_uris,
 * token_endpoint_auth_method? }`; any other client metadata is passed through) and `accounts`
 * (`{ [sub]: { email, email_verified, name, given_name?, family_name? } }`). Resolves with
 * `{ issuer, port, provider, tokenRequests, stop, setAccount, setClient }`:
 * - `setAccount(sub, claims)` adds an account, or replaces its claims, for the next requests;
 * - `await setClient(client)` adds a client or replaces one (invalid metadata rejects);
 * - `tokenRequests` lists the token endpoint's requests as `{ client_id, registered, method,
 *   grant_type, code_verifier, status, error }`: `method` is how the client authenticated,
 *   `registered` its registered method (the package accepts client_secret_basic and
 *   client_secret_post alike from a client registered with either);
 * - `provider` is the oidc-provider instance, for what the harness does not cover.
 */
export async function startProvider({ clients = [], accounts = {} } = {}) {
  const people = new Map(Object.entries(accounts).map(([sub, claims]) => [sub, { ...claims }]));
  const lookup = (login) => {
    const wanted = String(login ?? '').trim();
    if (!wanted) return undefined;
    if (people.has(wanted)) return wanted;
    const email = wanted.toLowerCase();
    for (const [sub, claims] of people) {
      if (typeof claims.email === 'string' && claims.email.toLowerCase() === email) return sub;
    }
    return undefined;
  };

  let provider;
  let handle; // provider.callback(), once the provider exists
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://127.0.0.1');
    if (pathname.startsWith('/interaction/')) {
      interaction(req, res, pathname).catch((error) => {
        if (res.headersSent) {
          res.destroy(error);
          return;
        }
        const status = error instanceof OidcErrors.SessionNotFound ? 400 : 500;
        send(res, status, page('Sign-in failed', `<p class="error" role="alert">${escapeHtml(error.name)}: ${escapeHtml(error.error_description ?? error.message)}</p>`));
      });
      return;
    }
    handle(req, res);
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;

  provider = new Provider(issuer, {
    clientAuthMethods: AUTH_METHODS,
    responseTypes: ['code'],
    pkce: { required: () => true }, // oidc-provider 9 knows S256 only
    scopes: SCOPES,
    claims: CLAIMS,
    conformIdTokenClaims: false, // the scopes' claims in the ID token, not only at userinfo
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
    jwks: { keys: signingKeys() },
    // Set, so that the package does not point out that its defaults are in use.
    ttl: {
      AccessToken: 3600, IdToken: 3600, Interaction: 3600, Session: 24 * 3600, Grant: 24 * 3600,
    },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      if (!people.has(sub)) return undefined;
      return {
        accountId: sub,
        // The provider keeps the claims of the granted scopes (and requested claims) only.
        async claims() {
          return { ...people.get(sub), sub };
        },
      };
    },
    async renderError(ctx, out, error) {
      ctx.type = 'html';
      ctx.body = page('Error', `<p class="error" role="alert">${escapeHtml(out.error)}: ${escapeHtml(out.error_description)}</p>`);
    },
  });

  // What each token request was, as the provider saw it: oidc-provider 9 accepts a client's
  // secret in the Authorization header or in the body whichever of the two it registered.
  const tokenRequests = [];
  provider.use(async (ctx, next) => {
    const basic = /^basic /i.test(ctx.get('authorization'));
    await next();
    if (ctx.oidc?.route !== 'token') return;
    const params = ctx.oidc.params ?? {};
    tokenRequests.push({
      client_id: ctx.oidc.client?.clientId ?? params.client_id,
      registered: ctx.oidc.client?.clientAuthMethod,
      method: basic ? 'client_secret_basic' : (params.client_secret ? 'client_secret_post' : 'none'),
      grant_type: params.grant_type,
      code_verifier: Boolean(params.code_verifier),
      status: ctx.status,
      error: ctx.status >= 400 ? ctx.body?.error : undefined,
    });
  });
  handle = provider.callback();

  async function interaction(req, res, pathname) {
    const match = pathname.match(/^\/interaction\/([^/]+)(?:\/(login|abort))?$/);
    if (!match) {
      send(res, 404, page('Not found', '<p>No such page.</p>'));
      return;
    }
    const [, uid, action = ''] = match;
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      send(res, 400, page('Sign-in failed', '<p class="error" role="alert">This sign-in is not the current one.</p>'));
      return;
    }
    const { prompt, params, session, grantId } = details;

    if (action === 'abort' && req.method === 'GET') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false });
      return;
    }

    if (action === 'login' && req.method === 'POST') {
      if (prompt.name !== 'login') {
        send(res, 400, page('Sign-in failed', `<p class="error" role="alert">Expected the ${escapeHtml(prompt.name)} step, not a login.</p>`));
        return;
      }
      const form = await readForm(req);
      const accountId = lookup(form.get('login'));
      if (!accountId) {
        send(res, 400, loginPage(uid, {
          clientId: params.client_id, loginHint: form.get('login') ?? '', error: 'Unknown account: try another sub or e-mail.',
        }));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      return;
    }

    if (action === '' && req.method === 'GET') {
      switch (prompt.name) {
        case 'login':
          send(res, 200, loginPage(uid, { clientId: params.client_id, loginHint: params.login_hint ?? '' }));
          return;
        case 'consent': {
          // Consent is given at once: a grant of what the request asked for that is not granted yet.
          const grant = grantId
            ? await provider.Grant.find(grantId)
            : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
          const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
          if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
          if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
          for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
            grant.addResourceScope(indicator, scopes.join(' '));
          }
          await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
          return;
        }
        default:
          send(res, 501, page('Not implemented', `<p>No page for the ${escapeHtml(prompt.name)} prompt.</p>`));
          return;
      }
    }
    res.setHeader('allow', action === 'login' ? 'POST' : 'GET');
    send(res, 405, page('Method not allowed', '<p>Method not allowed.</p>'));
  }

  // Clients live in the provider's (in-memory, per-provider) storage rather than its static
  // configuration, so that a test may add one, or change one, once it knows its redirect URI.
  const setClient = async (client) => {
    const metadata = {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...client,
    };
    if (typeof metadata.client_id !== 'string' || !metadata.client_id) throw new TypeError('setClient: client_id is required');
    const storage = provider.Client.adapter;
    await storage.upsert(metadata.client_id, metadata);
    try {
      await provider.Client.find(metadata.client_id); // validates the metadata
    } catch (error) {
      await storage.destroy(metadata.client_id);
      throw new Error(`client ${metadata.client_id} refused: ${error.error_description ?? error.message}`, { cause: error });
    }
  };
  try {
    for (const client of clients) await setClient(client);
  } catch (error) {
    await new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); });
    throw error;
  }

  let stopped;
  const stop = () => {
    stopped ??= new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return stopped;
  };
  const setAccount = (sub, claims) => {
    people.set(String(sub), { ...claims });
  };
  return { issuer, port, provider, tokenRequests, stop, setAccount, setClient };
}

// ---------------------------------------------------------------------------------------------
// The user agent.

const isLoopback = (hostname) => hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);

/** RFC 6265's default path: the request path up to, not including, its last `/` (or `/`). */
function defaultPath(pathname) {
  if (!pathname.startsWith('/')) return '/';
  const last = pathname.lastIndexOf('/');
  return last <= 0 ? '/' : pathname.slice(0, last);
}

function pathMatches(requestPath, cookiePath) {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/**
 * Cookies per origin (scheme, host and port: the tests' servers share 127.0.0.1), keeping
 * Path, Max-Age, Expires and Secure (sent over https, or to a loopback host as browsers do);
 * Domain and SameSite are not enforced.
 */
export class CookieJar {
  #origins = new Map(); // origin -> Map(`${name}\0${path}` -> { name, value, path, expires, secure })

  /** Keeps the `Set-Cookie` header values of a response from `url`. */
  store(url, setCookies) {
    const address = new URL(url);
    let cookies = this.#origins.get(address.origin);
    if (!cookies) {
      cookies = new Map();
      this.#origins.set(address.origin, cookies);
    }
    for (const line of [].concat(setCookies ?? [])) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = defaultPath(address.pathname);
      let expires = Infinity;
      let maxAge;
      let secure = false;
      for (const attribute of attributes) {
        const at = attribute.indexOf('=');
        const key = (at < 0 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
        const val = at < 0 ? '' : attribute.slice(at + 1).trim();
        if (key === 'path' && val.startsWith('/')) path = val;
        else if (key === 'expires') {
          const when = Date.parse(val);
          if (!Number.isNaN(when)) expires = when;
        } else if (key === 'max-age' && /^-?\d+$/.test(val)) maxAge = Number(val);
        else if (key === 'secure') secure = true;
      }
      if (maxAge !== undefined) expires = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000;
      const key = `${name}\0${path}`;
      if (expires <= Date.now()) cookies.delete(key);
      else cookies.set(key, { name, value, path, expires, secure });
    }
  }

  #live(origin) {
    const cookies = this.#origins.get(origin);
    if (!cookies) return [];
    const now = Date.now();
    for (const [key, cookie] of cookies) if (cookie.expires <= now) cookies.delete(key);
    return [...cookies.values()];
  }

  /** The value of cookie `name` for `origin` (a URL or an origin), any path; undefined if none. */
  get(origin, name) {
    const found = this.#live(new URL(origin).origin).filter((c) => c.name === name);
    found.sort((a, b) => b.path.length - a.path.length);
    return found[0]?.value;
  }

  /** All live cookies of `origin`: `[{ name, value, path, expires, secure }]`. */
  list(origin) {
    return this.#live(new URL(origin).origin).map((c) => ({ ...c }));
  }

  /** The `Cookie` header a browser would send to `url` (longest paths first), or '' if none. */
  header(url) {
    const address = new URL(url);
    const secureOk = address.protocol === 'https:' || isLoopback(address.hostname);
    return this.#live(address.origin)
      .filter((c) => pathMatches(address.pathname, c.path) && (!c.secure || secureOk))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** Forgets every cookie (of `origin` only, if given). */
  clear(origin) {
    if (origin) this.#origins.delete(new URL(origin).origin);
    else this.#origins.clear();
  }
}

/** The login form of startProvider's page in `html`, as an absolute action URL, or null. */
function loginFormAction(html, base) {
  const form = html.match(/<form\b[^>]*\baction="([^"]*\/interaction\/[^"/]+\/login)"[^>]*>([\s\S]*?)<\/form>/i);
  if (!form || !/<input\b[^>]*\bname="login"/i.test(form[2])) return null;
  return new URL(form[1].replace(/&amp;/g, '&'), base).href;
}

function encodeBody(body) {
  if (body === undefined || body === null) return { body: undefined, type: undefined };
  if (typeof body === 'string') return { body, type: 'application/x-www-form-urlencoded' };
  if (body instanceof URLSearchParams) return { body: body.toString(), type: 'application/x-www-form-urlencoded' };
  if (typeof body === 'object' && !ArrayBuffer.isView(body) && !(body instanceof ArrayBuffer)) {
    return { body: new URLSearchParams(body).toString(), type: 'application/x-www-form-urlencoded' };
  }
  return { body, type: undefined };
}

/**
 * Opens `url` like a browser without scripts: follows redirects (301, 302 and 303 as GET, 307
 * and 308 keeping the method and body) with `jar`, and when a page is startProvider's login form
 * submits `login` there once (without `login`, that page is the answer). `body` (a string, a
 * URLSearchParams or a plain object, sent as a form) goes with `method`; `headers` go with every
 * request. Resolves with the last response, one that is not a redirect or that redirects to a
 * non-http(s) scheme: `{ status, url, headers, location, text, jar, hops }`, `hops` every URL
 * requested, in order. More than 20 requests is an error.
 */
export async function browse(url, { jar = new CookieJar(), login, method = 'GET', body, headers = {} } = {}) {
  const hops = [];
  let current = new URL(url).href;
  let encoded = encodeBody(body);
  let verb = method.toUpperCase();
  let submitted = false;
  for (;;) {
    if (hops.length >= MAX_HOPS) {
      throw new Error(`browse: more than ${MAX_HOPS} requests, stopped before ${current}; visited:\n  ${hops.join('\n  ')}`);
    }
    hops.push(current);
    const requestHeaders = new Headers(headers);
    const cookie = jar.header(current);
    if (cookie) requestHeaders.set('cookie', cookie);
    if (encoded.body !== undefined && encoded.type && !requestHeaders.has('content-type')) {
      requestHeaders.set('content-type', encoded.type);
    }
    if (encoded.body === undefined) requestHeaders.delete('content-type');
    let response;
    try {
      response = await fetch(current, {
        method: verb, headers: requestHeaders, body: encoded.body, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(`browse: ${verb} ${current} failed: ${error.message}; visited:\n  ${hops.join('\n  ')}`, { cause: error });
    }
    jar.store(current, response.headers.getSetCookie());
    const location = response.headers.get('location');
    if ([301, 302, 303, 307, 308].includes(response.status) && location) {
      const next = new URL(location, current);
      if (next.protocol === 'http:' || next.protocol === 'https:') {
        await response.arrayBuffer();
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && verb === 'POST')) {
          if (verb !== 'HEAD') verb = 'GET';
          encoded = { body: undefined, type: undefined };
        }
        current = next.href;
        continue;
      }
    }
    const text = await response.text();
    const result = {
      status: response.status, url: current, headers: response.headers, location, text, jar, hops,
    };
    const action = login !== undefined && !submitted && response.status === 200 ? loginFormAction(text, current) : null;
    if (!action) return result;
    submitted = true;
    current = action;
    verb = 'POST';
    encoded = encodeBody({ login });
  }
}
