// "Sign in with an identity provider": Cairn as the relying party of an independent OpenID
// Provider, the npm package oidc-provider (panva; pinned in tests/interop/peers, run in-process by
// tests/interop/lib/oidc.mjs), and `browse`, a browser without scripts (redirects and a cookie
// jar), as the person signing in. One `cairn serve --demo` is configured (CAIRN_CONFIG) with four
// providers: "uni" and "uni-staff", two clients of one provider (the second asks for ES256-signed
// ID tokens), "lab", a second provider whose discovery document lists client_secret_post only, and
// "offline", an issuer on a closed port.
//
// It proves: the sign-in page offers each provider (keeping `next`), an unknown one is a 404
// page; the sign-in starts with a 303 to the provider's authorization endpoint (code flow, PKCE
// S256, state and nonce) and the state in a ten-minute HttpOnly, SameSite=Lax cookie. The demo
// learner, whom the provider knows by her demo address (verified), is linked on her first sign-in:
// the notice says so, the dashboard greets her, /account leads to /account/providers, which lists
// the link, and the operator's outbox has the mail telling her; Cairn's token request used
// client_secret_basic with a PKCE code_verifier. She signs in again as known, also after the
// provider's e-mail claim changes (linking is by subject). A callback taken to another browser
// (another cookie jar) is refused without Cairn calling the token endpoint, and the sign-in then
// goes through in the browser that started it (303 to /dashboard, the session cookie, the state
// cookie cleared); the callback replayed, even with the state cookie copied back, is refused. A new
// person gets a new account named by the provider, which has no password (a password sign-in
// fails) and whose only link cannot be unlinked (409); the ES256 client links to the same account
// by address, and then one of its two links can go. An address the provider did not verify links
// nothing and creates nothing (403), and once the provider verifies it the same subject signs in
// (linked, or a new account). Cancelling at the provider is a 403 with the reason; `next` is
// honoured (an outside address is not). At the client_secret_post provider, Cairn sends the secret
// in the form; an ID token whose signature was changed is refused ("did not verify"); once that
// provider is down, a callback in the right browser is a 503 on the sign-in page, as is starting
// with the issuer on a closed port. The demo graduate, linked, unlinks the provider (she has a
// password): the notice, and the provider is under "Also available".
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startDemo } from './lib/cairn.mjs';
import { browse, CookieJar, startProvider } from './lib/oidc.mjs';

const ISSUER = ['issuer@demo.cairn.test', 'cairn-demo-issuer'];
const LEARNER = { email: 'learner@demo.cairn.test', password: 'cairn-demo-learner' };
const GRADUATE = { email: 'graduate@demo.cairn.test', password: 'cairn-demo-graduate' };

const SECRET = (id) => `${id}-secret-that-is-long-enough-0123456789`;
const PROVIDERS = {
  uni: { name: 'Example University', client_id: 'cairn-uni' },
  'uni-staff': { name: 'Example University Staff', client_id: 'cairn-uni-staff' },
  lab: { name: 'Research Lab', client_id: 'cairn-lab' },
  offline: { name: 'Offline Institute', client_id: 'cairn-offline' },
};

// The provider's people (subs), by what they stand for.
const LENA = { sub: 'uni-0001-lena', claims: { email: LEARNER.email, email_verified: true, name: 'Lena Fischer', given_name: 'Lena', family_name: 'Fischer' } };
const INES = { sub: 'uni-0002-ines', claims: { email: 'ines.newcomer@uni.example', email_verified: true, name: 'Inès Newcomer', given_name: 'Inès', family_name: 'Newcomer' } };
const TOMAS = { sub: 'uni-0003-tomas', claims: { email: GRADUATE.email, email_verified: false, name: 'Tomás Rivera' } };
const PAT = { sub: 'uni-0004-pat', claims: { email: 'pat.pending@uni.example', email_verified: false, name: 'Pat Pending' } };

const NOTICES = {
  known: 'You are signed in.',
  linked: 'You are signed in, and your account is now linked to the provider you signed in with. We have sent a message to your e-mail address saying so.',
  created: /^Welcome to Cairn\. Your account is ready: /,
  unlinked: 'The provider is unlinked: it no longer signs you in to this account.',
};
const RESTART = /did not start in this browser, was used already or took too long\. Please start again\./;

// ---------------------------------------------------------------------------------------------
// Reading Cairn's HTML (no DOM here: the pages are server-rendered templates).

/** Text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed. */
const text = (html) => (html ?? '')
  .replace(/<[^>]*>/g, ' ')
  .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
  .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
  .replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
  .replace(/\s+/g, ' ')
  .trim();
/** The text of the page's notice (`.notice[role=status]`), or null. */
const notice = (html) => {
  const found = html.match(/<div class="notice" role="status">([\s\S]*?)<\/div>/);
  return found ? text(found[1]) : null;
};
/** The text of the page's `.error-summary[role=alert]`, or null. */
const errorSummary = (html) => {
  const found = html.match(/<div class="error-summary" role="alert"[^>]*>([\s\S]*?)<\/div>/);
  return found ? text(found[1]) : null;
};
const h1 = (html) => text(html.match(/<h1[^>]*>([\s\S]*?)<\/h1>/)?.[1]);
/** The hidden CSRF field of the first form on the page. */
const csrfField = (html) => html.match(/<input type="hidden" name="csrf" value="([^"]*)">/)?.[1];
/** The sign-in page's provider links: `[{ href, label }]`, or null without the section. */
function providerLinks(html) {
  const section = html.match(/<section class="sign-in-providers"[^>]*>([\s\S]*?)<\/section>/);
  if (!section) return null;
  return {
    heading: text(section[1].match(/<h2[^>]*>([\s\S]*?)<\/h2>/)?.[1]),
    links: [...section[1].matchAll(/<a class="button[^"]*" href="([^"]*)">([\s\S]*?)<\/a>/g)].map(([, href, label]) => ({ href: href.replace(/&amp;/g, '&'), label: text(label) })),
  };
}
/** /account/providers: the linked table's rows and the "Also available" names (null if none). */
function providersPage(html) {
  const rows = [...html.matchAll(/<tr>\s*<th scope="row">([\s\S]*?)<\/th>([\s\S]*?)<\/tr>/g)].map(([, name, rest]) => ({
    name: text(name),
    cells: [...rest.matchAll(/<td>([\s\S]*?)<\/td>/g)].map(([, cell]) => text(cell)),
    unlink: rest.match(/<form method="post" action="([^"]*)"/)?.[1],
    csrf: csrfField(rest),
  }));
  const others = html.match(/<h2 id="others-title">([\s\S]*?)<\/h2>[\s\S]*?<ul>([\s\S]*?)<\/ul>/);
  return {
    rows,
    othersTitle: others ? text(others[1]) : null,
    others: others ? [...others[2].matchAll(/<li>([\s\S]*?)<\/li>/g)].map(([, li]) => text(li)) : null,
  };
}
/** The operator outbox's mails: `[{ subject, to, body }]`, newest first. */
const outboxMails = (html) => [...html.matchAll(/<li class="mail">([\s\S]*?)<\/li>\s*(?=<li class="mail">|<\/ol>)/g)].map(([, mail]) => ({
  subject: text(mail.match(/<h2 class="mail-subject">([\s\S]*?)<\/h2>/)?.[1]),
  to: text(mail.match(/<dt>To<\/dt><dd>([\s\S]*?)<\/dd>/)?.[1]),
  body: text(mail.match(/<div class="evidence-text mail-body">([\s\S]*?)<\/div>/)?.[1]),
}));

/** Where the answer went and what it said, for assertion messages. */
const show = (answer) => `${answer.status} ${answer.url}\nhops:\n  ${answer.hops?.join('\n  ')}\nnotice: ${notice(answer.text)}\nerror: ${errorSummary(answer.text)}\n${text(answer.text).slice(0, 600)}`;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

describe('Cairn signs people in with an OpenID Provider (oidc-provider)', () => {
  let dir;
  let server;
  let base;
  let uni; // the provider of "uni" and "uni-staff"
  let lab; // the provider of "lab" (client_secret_post only), stopped by a test
  const idTokens = []; // what uni's token endpoint answered: { client_id, alg }
  const labTamper = { idToken: false }; // when set, lab's ID tokens leave with a changed signature
  let graduateLinked = false; // whether the unverified test linked the demo graduate at last

  const callbackOf = (id) => `${base}/auth/oidc/${id}/callback`;
  const startOf = (id, next) => `${base}/auth/oidc/${id}${next === undefined ? '' : `?next=${encodeURIComponent(next)}`}`;

  /** Signs `login` in with provider `id` in `jar` (a fresh one by default): the last answer. */
  const signIn = (id, login, { jar = new CookieJar(), next } = {}) => browse(startOf(id, next), { jar, login });

  /** Asserts a sign-in ended on /dashboard (200) with `expected` as its notice. */
  function landedOnDashboard(answer, expected, what) {
    assert.equal(answer.status, 200, `${what}: ${show(answer)}`);
    assert.equal(new URL(answer.url).pathname, '/dashboard', `${what}: ${show(answer)}`);
    if (expected instanceof RegExp) assert.match(notice(answer.text) ?? '', expected, `${what}: ${show(answer)}`);
    else assert.equal(notice(answer.text), expected, `${what}: ${show(answer)}`);
    assert.ok(answer.jar.get(base, 'cairn_session'), `${what}: a session cookie`);
    assert.equal(answer.jar.get(base, 'cairn_oidc_state'), undefined, `${what}: the state cookie is cleared`);
  }

  /**
   * Asserts a failed sign-in: the sign-in page with `status`, its error summary matching
   * `reason`, the state cookie gone, and no session (unless the browser was `signedIn` before).
   */
  function refusedOnSignInPage(answer, status, reason, what, { signedIn = false } = {}) {
    assert.equal(answer.status, status, `${what}: ${show(answer)}`);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/html/, what);
    assert.equal(h1(answer.text), 'Sign in', `${what}: the sign-in page: ${show(answer)}`);
    assert.match(errorSummary(answer.text) ?? '', reason, `${what}: ${show(answer)}`);
    assert.match(answer.text, /<form method="post" action="\/login"/, `${what}: the password form is there to use`);
    if (!signedIn) assert.equal(answer.jar.get(base, 'cairn_session'), undefined, `${what}: not signed in`);
    assert.equal(answer.jar.get(base, 'cairn_oidc_state'), undefined, `${what}: the state cookie is cleared`);
  }

  /** A Cairn page in `jar` (200 expected). */
  async function page(jar, pathname, status = 200) {
    const answer = await browse(`${base}${pathname}`, { jar });
    assert.equal(answer.status, status, `GET ${pathname}: ${show(answer)}`);
    return answer;
  }

  /** Signs in with a password through the sign-in form in `jar`; the last answer. */
  async function passwordSignIn(jar, email, password) {
    const form = await page(jar, '/login');
    return browse(`${base}/login`, { jar, method: 'POST', body: { csrf: csrfField(form.text), next: '', email, password } });
  }

  /** The operator's outbox, read by the demo issuer. */
  async function outbox() {
    const jar = new CookieJar();
    const signedIn = await passwordSignIn(jar, ...ISSUER);
    assert.equal(signedIn.status, 200, `the demo issuer signs in: ${show(signedIn)}`);
    return outboxMails((await page(jar, '/admin/outbox')).text);
  }

  /** Posts the unlink form of provider `id` on /account/providers in `jar`; the last answer. */
  async function unlink(jar, id) {
    const before = providersPage((await page(jar, '/account/providers')).text);
    const row = before.rows.find((r) => r.unlink === `/account/providers/${id}/unlink`);
    assert.ok(row, `an unlink form for ${id}: ${JSON.stringify(before.rows)}`);
    assert.ok(row.csrf, 'the form has its CSRF field');
    return browse(`${base}${row.unlink}`, { jar, method: 'POST', body: { csrf: row.csrf } });
  }

  /**
   * Starts a sign-in with `id` in a new jar `started` (the 303 and its cookie, by hand), then
   * signs `login` in at the provider in another jar: the provider sends that other browser to
   * Cairn's callback, which refuses it for want of the state cookie. Returns both jars, the 303,
   * the callback URL (its code not exchanged) and the refused answer.
   */
  async function callbackInAnotherBrowser(id, login) {
    const started = new CookieJar();
    const begun = await fetch(startOf(id), { redirect: 'manual', signal: AbortSignal.timeout(20_000) });
    await begun.arrayBuffer();
    assert.equal(begun.status, 303, `GET /auth/oidc/${id}`);
    started.store(startOf(id), begun.headers.getSetCookie());
    assert.ok(started.get(base, 'cairn_oidc_state'), 'the state cookie is set');
    const other = new CookieJar();
    const refused = await browse(begun.headers.get('location'), { jar: other, login });
    const callback = refused.hops.find((hop) => hop.startsWith(`${callbackOf(id)}?`));
    assert.ok(callback, `the provider sent the browser to Cairn's callback: ${show(refused)}`);
    assert.ok(new URL(callback).searchParams.get('code'), `with a code: ${callback}`);
    return { started, other, begun, callback, refused };
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-oidc-'));
    uni = await startProvider({ accounts: Object.fromEntries([LENA, INES, TOMAS, PAT].map((p) => [p.sub, p.claims])) });
    lab = await startProvider({ accounts: { [LENA.sub]: LENA.claims } });
    // What uni's ID tokens are signed with, as they leave its token endpoint.
    uni.provider.use(async (ctx, next) => {
      await next();
      if (ctx.oidc?.route === 'token' && typeof ctx.body?.id_token === 'string') {
        const header = JSON.parse(Buffer.from(ctx.body.id_token.split('.')[0], 'base64url').toString('utf8'));
        idTokens.push({ client_id: ctx.oidc.client?.clientId, alg: header.alg });
      }
    });
    // lab lists client_secret_post alone, and may spoil its ID tokens' signatures.
    lab.provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/.well-known/openid-configuration' && ctx.status === 200 && ctx.body) {
        ctx.body = { ...ctx.body, token_endpoint_auth_methods_supported: ['client_secret_post'] };
      }
      if (ctx.oidc?.route === 'token' && labTamper.idToken && typeof ctx.body?.id_token === 'string') {
        const [head, payload, signature] = ctx.body.id_token.split('.');
        const at = Math.floor(signature.length / 2);
        const changed = `${signature.slice(0, at)}${signature[at] === 'A' ? 'B' : 'A'}${signature.slice(at + 1)}`;
        ctx.body = { ...ctx.body, id_token: `${head}.${payload}.${changed}` };
      }
    });
    const closedPort = await freePort();
    const issuers = { uni: uni.issuer, 'uni-staff': uni.issuer, lab: lab.issuer, offline: `http://127.0.0.1:${closedPort}` };
    const toml = Object.entries(PROVIDERS).map(([id, p]) => `[[oidc_providers]]
id = "${id}"
name = "${p.name}"
issuer = "${issuers[id]}"
client_id = "${p.client_id}"
scopes = ["profile"]
`).join('\n');
    fs.writeFileSync(path.join(dir, 'cairn.toml'), toml);
    const secrets = Object.fromEntries(Object.keys(PROVIDERS).map((id) => [`CAIRN_OIDC_${id.toUpperCase().replace(/-/g, '_')}_CLIENT_SECRET`, SECRET(id)]));
    server = await startDemo(dir, { CAIRN_CONFIG: path.join(dir, 'cairn.toml'), ...secrets });
    base = server.base;
    await uni.setClient({ client_id: PROVIDERS.uni.client_id, client_secret: SECRET('uni'), redirect_uris: [callbackOf('uni')] });
    await uni.setClient({
      client_id: PROVIDERS['uni-staff'].client_id, client_secret: SECRET('uni-staff'), redirect_uris: [callbackOf('uni-staff')], id_token_signed_response_alg: 'ES256',
    });
    await lab.setClient({
      client_id: PROVIDERS.lab.client_id, client_secret: SECRET('lab'), redirect_uris: [callbackOf('lab')], token_endpoint_auth_method: 'client_secret_post',
    });
  }, { timeout: 90_000 });

  after(async () => {
    await server?.stop();
    await uni?.stop();
    await lab?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  it('the sign-in page offers each provider, keeping next; an unknown provider is a 404 page', async () => {
    const login = await page(new CookieJar(), '/login');
    const offered = providerLinks(login.text);
    assert.ok(offered, `the sign-in page has section.sign-in-providers:\n${text(login.text).slice(0, 800)}`);
    assert.equal(offered.heading, 'Or sign in with your organisation');
    assert.deepEqual(offered.links, Object.entries(PROVIDERS).map(([id, p]) => ({ href: `/auth/oidc/${id}`, label: `Sign in with ${p.name}` })),
      'one link per provider, in the configured order');

    const withNext = providerLinks((await page(new CookieJar(), '/login?next=/account')).text);
    for (const link of withNext.links) {
      const href = new URL(link.href, base);
      assert.equal(href.searchParams.get('next'), '/account', `the link keeps next: ${link.href}`);
    }

    const unknown = await browse(`${base}/auth/oidc/nowhere`);
    assert.equal(unknown.status, 404, show(unknown));
    assert.match(unknown.headers.get('content-type') ?? '', /^text\/html/);
    assert.deepEqual(unknown.hops, [`${base}/auth/oidc/nowhere`], 'no redirect anywhere');
  });

  it('a sign-in starts with a 303 to the authorization endpoint: code flow, PKCE S256, state and nonce; the state in a cookie', async () => {
    const discovery = await (await fetch(`${uni.issuer}/.well-known/openid-configuration`)).json();
    const begun = await fetch(startOf('uni', '/account'), { redirect: 'manual' });
    await begun.arrayBuffer();
    assert.equal(begun.status, 303);
    assert.match(begun.headers.get('cache-control') ?? '', /no-store/);
    const to = new URL(begun.headers.get('location'));
    assert.equal(`${to.origin}${to.pathname}`, discovery.authorization_endpoint);
    const query = Object.fromEntries(to.searchParams);
    assert.equal(query.response_type, 'code');
    assert.equal(query.client_id, PROVIDERS.uni.client_id);
    assert.equal(query.redirect_uri, callbackOf('uni'));
    assert.deepEqual(query.scope.split(' ').sort(), ['email', 'openid', 'profile']);
    assert.match(query.state, /^[A-Za-z0-9_-]{22,}$/, 'an unguessable state');
    assert.match(query.nonce, /^[A-Za-z0-9_-]{22,}$/, 'an unguessable nonce');
    assert.notEqual(query.state, query.nonce);
    assert.match(query.code_challenge, /^[A-Za-z0-9_-]{43}$/, 'an S256 challenge is 43 base64url characters');
    assert.equal(query.code_challenge_method, 'S256');
    assert.ok(!('next' in query), 'next stays at Cairn');

    const cookies = begun.headers.getSetCookie();
    const state = cookies.find((c) => c.startsWith('cairn_oidc_state='));
    assert.ok(state, `a state cookie: ${JSON.stringify(cookies)}`);
    const [pair, ...attributes] = state.split(';').map((part) => part.trim());
    assert.equal(pair, `cairn_oidc_state=${query.state}`, 'the cookie holds the state sent to the provider');
    assert.deepEqual(attributes.filter((a) => a !== 'Secure').sort(), ['HttpOnly', 'Max-Age=600', 'Path=/', 'SameSite=Lax'], state);
    assert.ok(!cookies.some((c) => c.startsWith('cairn_session=')), 'no session yet');

    // Another start gets another state, nonce and challenge.
    const again = await fetch(startOf('uni'), { redirect: 'manual' });
    await again.arrayBuffer();
    const second = new URL(again.headers.get('location')).searchParams;
    assert.notEqual(second.get('state'), query.state);
    assert.notEqual(second.get('nonce'), query.nonce);
    assert.notEqual(second.get('code_challenge'), query.code_challenge);
  });

  it('the demo learner, verified by the provider, is linked: the notice, the providers page and the mail', async () => {
    const before = uni.tokenRequests.length;
    const answer = await signIn('uni', LENA.sub);
    landedOnDashboard(answer, NOTICES.linked, 'first sign-in of a known address');
    assert.equal(h1(answer.text), 'Hello, Lena Fischer', 'the dashboard is the demo learner\'s');
    const authorize = answer.hops.find((hop) => hop.startsWith(`${uni.issuer}/auth?`));
    assert.ok(authorize, `the browser went to the provider: ${answer.hops}`);
    assert.ok(answer.hops.some((hop) => hop.startsWith(`${callbackOf('uni')}?`)), 'and came back to the callback');

    // Cairn's one token request: client_secret_basic, with the PKCE verifier.
    assert.equal(uni.tokenRequests.length, before + 1, JSON.stringify(uni.tokenRequests.slice(before)));
    assert.deepEqual(uni.tokenRequests.at(-1), {
      client_id: PROVIDERS.uni.client_id, registered: 'client_secret_basic', method: 'client_secret_basic', grant_type: 'authorization_code', code_verifier: true, status: 200, error: undefined,
    });
    assert.deepEqual(idTokens.at(-1), { client_id: PROVIDERS.uni.client_id, alg: 'RS256' });

    // /account leads to the providers page, which lists the link.
    const account = await page(answer.jar, '/account');
    assert.match(text(account.text), new RegExp(`Signed in as ${LEARNER.email.replace(/\./g, '\\.')}`), 'the same account');
    const link = account.text.match(/<a href="\/account\/providers">([\s\S]*?)<\/a>/);
    assert.ok(link, '/account links to /account/providers');
    assert.equal(text(link[1]), 'Organisations you sign in with');
    const providers = await page(answer.jar, '/account/providers');
    assert.equal(h1(providers.text), 'Organisations you sign in with');
    const listed = providersPage(providers.text);
    assert.equal(listed.rows.length, 1, JSON.stringify(listed.rows));
    assert.equal(listed.rows[0].name, PROVIDERS.uni.name);
    assert.equal(listed.rows[0].cells[0], LEARNER.email, 'the e-mail address the provider confirmed');
    assert.ok(listed.rows[0].cells[1] && listed.rows[0].cells[2], `linked and last used dates: ${listed.rows[0].cells}`);
    assert.equal(listed.rows[0].unlink, '/account/providers/uni/unlink');
    assert.equal(listed.othersTitle, 'Also available');
    assert.deepEqual(listed.others, ['Example University Staff', 'Research Lab', 'Offline Institute']);

    // The mail telling her, in the operator's outbox.
    const mails = (await outbox()).filter((m) => m.to === LEARNER.email && m.subject === `${PROVIDERS.uni.name} is linked to your Cairn account`);
    assert.equal(mails.length, 1, `one mail to the learner about the link: ${JSON.stringify(await outbox())}`);
    assert.match(mails[0].body, /Example University/);
  });

  it('she signs in again as known, also after the provider changes her e-mail address (the subject links)', async () => {
    landedOnDashboard(await signIn('uni', LENA.sub), NOTICES.known, 'second sign-in');

    const changed = 'lena.fischer@uni.example';
    uni.setAccount(LENA.sub, { ...LENA.claims, email: changed });
    try {
      const answer = await signIn('uni', changed);
      landedOnDashboard(answer, NOTICES.known, 'sign-in after the e-mail claim changed');
      assert.equal(h1(answer.text), 'Hello, Lena Fischer');
      const account = await page(answer.jar, '/account');
      assert.match(text(account.text), /Signed in as learner@demo\.cairn\.test/, 'still the demo learner\'s account, under its own address');
      const listed = providersPage((await page(answer.jar, '/account/providers')).text);
      assert.deepEqual(listed.rows.map((r) => r.name), [PROVIDERS.uni.name], 'still one link');
    } finally {
      uni.setAccount(LENA.sub, LENA.claims);
    }
    const mails = (await outbox()).filter((m) => m.to === LEARNER.email && /is linked to your Cairn account/.test(m.subject));
    assert.equal(mails.length, 1, 'signing in as known sends no mail');
  });

  it('a callback taken to another browser is refused without a token request; in the right browser it signs in once, never twice', async () => {
    const before = uni.tokenRequests.length;
    const { started, other, callback, refused } = await callbackInAnotherBrowser('uni', LENA.sub);
    refusedOnSignInPage(refused, 403, RESTART, 'the callback in another browser');
    assert.match(errorSummary(refused.text), /^Sign-in failed This sign-in with Example University did not start/, errorSummary(refused.text));
    assert.equal(uni.tokenRequests.length, before, 'Cairn did not exchange the code for the other browser');
    assert.equal(other.get(base, 'cairn_session'), undefined);

    // In the browser that started it: 303 to /dashboard, a session, the state cookie cleared.
    const finished = await fetch(callback, { redirect: 'manual', headers: { cookie: started.header(callback) } });
    await finished.arrayBuffer();
    assert.equal(finished.status, 303, 'the callback in the browser that started the sign-in');
    assert.equal(new URL(finished.headers.get('location'), base).href, `${base}/dashboard`);
    const cookies = finished.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('cairn_session='));
    assert.ok(session && /HttpOnly/.test(session) && !/Max-Age=0\b/.test(session), `a session cookie: ${JSON.stringify(cookies)}`);
    const cleared = cookies.find((c) => c.startsWith('cairn_oidc_state='));
    assert.ok(cleared && /^cairn_oidc_state=;/.test(cleared) && /Max-Age=0\b/.test(cleared), `the state cookie is cleared: ${JSON.stringify(cookies)}`);
    assert.equal(uni.tokenRequests.length, before + 1, 'one token request');
    started.store(callback, cookies);
    landedOnDashboard(await page(started, '/dashboard'), NOTICES.known, 'the dashboard after the callback');

    // Replayed in the same browser (the state cookie is gone) and with the state cookie copied back.
    refusedOnSignInPage(await browse(callback, { jar: started }), 403, RESTART, 'the callback replayed', { signedIn: true });
    const replayer = new CookieJar();
    replayer.store(base, [`cairn_oidc_state=${new URL(callback).searchParams.get('state')}; Path=/`]);
    refusedOnSignInPage(await browse(callback, { jar: replayer }), 403, RESTART, 'the callback replayed with the state cookie');
    assert.equal(uni.tokenRequests.length, before + 1, 'a replay makes no token request');
  });

  it('a new person gets an account named by the provider, without a password, whose only link cannot be unlinked', async () => {
    const answer = await signIn('uni', INES.sub);
    landedOnDashboard(answer, NOTICES.created, 'a new person');
    assert.equal(h1(answer.text), `Hello, ${INES.claims.name}`, 'named by the provider\'s name claim');
    assert.match(text((await page(answer.jar, '/account')).text), new RegExp(`Signed in as ${INES.claims.email.replace(/\./g, '\\.')}`));
    assert.equal((await outbox()).filter((m) => m.to === INES.claims.email && /is linked/.test(m.subject)).length, 0, 'no "linked" mail for a new account');

    // No password: the sign-in form refuses any.
    const jar = new CookieJar();
    const refused = await passwordSignIn(jar, INES.claims.email, 'any password at all, long enough');
    assert.ok(refused.status >= 400, `a password sign-in fails: ${show(refused)}`);
    assert.ok(errorSummary(refused.text), `with a reason: ${show(refused)}`);
    assert.equal(jar.get(base, 'cairn_session'), undefined, 'no session');

    // Unlinking the only way in: 409, the page with the reason, and the link stays.
    const unlinked = await unlink(answer.jar, 'uni');
    assert.equal(unlinked.status, 409, show(unlinked));
    assert.equal(h1(unlinked.text), 'Organisations you sign in with');
    assert.match(errorSummary(unlinked.text) ?? '', /\bthis is the only way into your account\b/i, show(unlinked));
    const listed = providersPage((await page(answer.jar, '/account/providers')).text);
    assert.deepEqual(listed.rows.map((r) => r.name), [PROVIDERS.uni.name], 'still linked');
  });

  it('a client asking for ES256-signed ID tokens links the same person; with two links, one can go', async () => {
    const before = uni.tokenRequests.length;
    const answer = await signIn('uni-staff', INES.sub);
    landedOnDashboard(answer, NOTICES.linked, 'the ES256 client');
    assert.equal(h1(answer.text), `Hello, ${INES.claims.name}`, 'the account made before');
    assert.deepEqual(idTokens.at(-1), { client_id: PROVIDERS['uni-staff'].client_id, alg: 'ES256' }, 'the ID token Cairn verified was ES256');
    assert.equal(uni.tokenRequests.length, before + 1);
    assert.equal(uni.tokenRequests.at(-1).client_id, PROVIDERS['uni-staff'].client_id);
    assert.equal(uni.tokenRequests.at(-1).method, 'client_secret_basic');

    let listed = providersPage((await page(answer.jar, '/account/providers')).text);
    assert.deepEqual(listed.rows.map((r) => r.name), [PROVIDERS.uni.name, PROVIDERS['uni-staff'].name]);
    const unlinked = await unlink(answer.jar, 'uni-staff');
    assert.equal(unlinked.status, 200, show(unlinked));
    assert.equal(new URL(unlinked.url).pathname, '/account/providers');
    assert.equal(notice(unlinked.text), NOTICES.unlinked);
    listed = providersPage(unlinked.text);
    assert.deepEqual(listed.rows.map((r) => r.name), [PROVIDERS.uni.name]);
    assert.ok(listed.others?.includes(PROVIDERS['uni-staff'].name), `${PROVIDERS['uni-staff'].name} is available again: ${listed.others}`);
  });

  it('an address the provider did not verify links nothing and creates nothing; verified, the same subject signs in', async () => {
    const reason = /Example University did not confirm an e-mail address for you/;
    // The demo graduate's address, unverified: no link to her account.
    refusedOnSignInPage(await signIn('uni', TOMAS.sub), 403, reason, 'an unverified known address');
    const graduate = new CookieJar();
    assert.equal((await passwordSignIn(graduate, GRADUATE.email, GRADUATE.password)).status, 200, 'the graduate signs in with her password');
    const none = await page(graduate, '/account/providers');
    assert.deepEqual(providersPage(none.text).rows, [], 'nothing is linked to her account');
    assert.match(none.text, /class="empty-state"/);
    // A new address, unverified: no account.
    refusedOnSignInPage(await signIn('uni', PAT.sub), 403, reason, 'an unverified new address');
    const mails = await outbox();
    assert.ok(!mails.some((m) => [GRADUATE.email, PAT.claims.email].includes(m.to) && /is linked to your Cairn account/.test(m.subject)), `no "linked" mail to either: ${JSON.stringify(mails.slice(0, 5))}`);

    // Verified now, the same subjects: the graduate's account is linked, Pat's account is made
    // only now (had the refused sign-in made it, this would be a link, not a welcome).
    uni.setAccount(PAT.sub, { ...PAT.claims, email_verified: true });
    const pat = await signIn('uni', PAT.sub);
    landedOnDashboard(pat, NOTICES.created, 'the new address, verified');
    assert.equal(h1(pat.text), 'Hello, Pat Pending');
    uni.setAccount(TOMAS.sub, { ...TOMAS.claims, email_verified: true });
    const tomas = await signIn('uni', TOMAS.sub);
    landedOnDashboard(tomas, NOTICES.linked, 'the graduate\'s address, verified');
    assert.equal(h1(tomas.text), 'Hello, Tomás Rivera');
    graduateLinked = true;
  });

  it('cancelling at the provider comes back as a 403 on the sign-in page, with the reason', async () => {
    const before = uni.tokenRequests.length;
    const jar = new CookieJar();
    const form = await browse(startOf('uni'), { jar });
    assert.match(form.url, new RegExp(`^${uni.issuer}/interaction/[^/]+$`), `the provider's login page: ${show(form)}`);
    assert.ok(jar.get(base, 'cairn_oidc_state'), 'the state cookie waits');
    const cancelled = await browse(`${form.url}/abort`, { jar });
    assert.ok(cancelled.hops.some((hop) => hop.startsWith(`${callbackOf('uni')}?`) && new URL(hop).searchParams.get('error') === 'access_denied'), `access_denied at the callback: ${cancelled.hops}`);
    refusedOnSignInPage(cancelled, 403, /^Sign-in failed Example University did not sign you in: you cancelled, or the provider refused access\.$/, 'cancelled');
    assert.equal(uni.tokenRequests.length, before, 'no token request');
  });

  it('next is honoured (a local path only), from the sign-in page\'s link too', async () => {
    const there = await signIn('uni', LENA.sub, { next: '/account/providers' });
    assert.equal(there.status, 200, show(there));
    assert.equal(new URL(there.url).pathname, '/account/providers', show(there));
    assert.equal(h1(there.text), 'Organisations you sign in with', 'signed in, on the page asked for');

    const outside = await signIn('uni', LENA.sub, { next: 'https://elsewhere.example/' });
    assert.equal(new URL(outside.url).origin, base, `an outside next is not followed: ${show(outside)}`);
    assert.equal(new URL(outside.url).pathname, '/dashboard', show(outside));

    const jar = new CookieJar();
    const login = await page(jar, '/login?next=/account');
    const { href } = providerLinks(login.text).links.find((l) => l.label === `Sign in with ${PROVIDERS.uni.name}`);
    const followed = await browse(new URL(href, base).href, { jar, login: LENA.sub });
    assert.equal(followed.status, 200, show(followed));
    assert.equal(new URL(followed.url).pathname, '/account', show(followed));
    assert.match(text(followed.text), /Signed in as learner@demo\.cairn\.test/);
  });

  it('at a provider that lists client_secret_post only, the secret goes in the form; a spoiled ID token does not verify', async () => {
    const answer = await signIn('lab', LENA.sub);
    landedOnDashboard(answer, NOTICES.linked, 'the learner at the lab');
    assert.equal(h1(answer.text), 'Hello, Lena Fischer');
    assert.deepEqual(lab.tokenRequests.at(-1), {
      client_id: PROVIDERS.lab.client_id, registered: 'client_secret_post', method: 'client_secret_post', grant_type: 'authorization_code', code_verifier: true, status: 200, error: undefined,
    });

    labTamper.idToken = true;
    try {
      const spoiled = await signIn('lab', LENA.sub);
      refusedOnSignInPage(spoiled, 403, /^Sign-in failed Research Lab's answer did not verify \(.+\), so you are not signed in\. Please start again\.$/, 'an ID token with a changed signature');
    } finally {
      labTamper.idToken = false;
    }
  });

  it('a provider that is down: a 503 on the sign-in page, at the callback and at the start', async () => {
    // The sign-in is under way (the provider's documents are known) when the provider goes.
    const { started, callback } = await callbackInAnotherBrowser('lab', LENA.sub);
    await lab.stop();
    const down = await browse(callback, { jar: started });
    refusedOnSignInPage(down, 503, /^Sign-in failed Research Lab could not be reached to sign you in \(.+\)\. Please try again later\.$/, 'the token endpoint is down');

    // An issuer on a closed port: its discovery document cannot be read.
    const closed = await browse(startOf('offline', '/account'), { jar: new CookieJar() });
    refusedOnSignInPage(closed, 503, /^Sign-in failed Offline Institute could not be reached to sign you in \(.+\)\. Please try again later\.$/, 'the issuer is on a closed port');
    assert.deepEqual(closed.hops, [startOf('offline', '/account')], 'no redirect');
    assert.match(closed.text, /<input type="hidden" name="next" value="\/account">/, 'the sign-in page keeps next');
  });

  it('the demo graduate, who has a password, unlinks the provider: the notice, and it is available again', async () => {
    assert.ok(graduateLinked, 'the graduate was linked (the unverified-address test)');
    const jar = new CookieJar();
    assert.equal((await passwordSignIn(jar, GRADUATE.email, GRADUATE.password)).status, 200);
    const before = providersPage((await page(jar, '/account/providers')).text);
    assert.deepEqual(before.rows.map((r) => [r.name, r.cells[0]]), [[PROVIDERS.uni.name, GRADUATE.email]]);

    const answer = await unlink(jar, 'uni');
    assert.equal(answer.status, 200, show(answer));
    assert.equal(new URL(answer.url).pathname, '/account/providers', 'back on the providers page (303)');
    assert.ok(answer.hops.length === 2, `one redirect: ${answer.hops}`);
    assert.equal(notice(answer.text), NOTICES.unlinked);
    const after = providersPage(answer.text);
    assert.deepEqual(after.rows, [], 'nothing linked');
    assert.ok(after.others?.includes(PROVIDERS.uni.name), `${PROVIDERS.uni.name} is under "Also available": ${after.others}`);

    // Her password still signs her in; the provider's next sign-in links her again, by address.
    assert.equal((await passwordSignIn(new CookieJar(), GRADUATE.email, GRADUATE.password)).status, 200);
    landedOnDashboard(await signIn('uni', TOMAS.sub), NOTICES.linked, 'signing in with the provider after the unlink');
  });
});
