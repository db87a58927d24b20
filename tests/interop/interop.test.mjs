// Interop with independent Open Badges implementations (installed by tests/interop/peers/install.sh):
// what Cairn signs and bakes, the peers accept; what the peers sign, Cairn verifies, and their
// tampered, expired, wrong-key and revoked variants Cairn rejects with the right reason.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ob3 from './peers/lib/ob3.mjs';
import { buildLoader } from './peers/lib/loader.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const peers = path.join(here, 'peers');
const root = path.resolve(here, '../..');
const cairnBin = process.env.CAIRN_BIN || path.join(root, 'target/release/cairn');
let dir;

function run(command, args, input) {
  const result = spawnSync(command, args, { cwd: dir, input, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
}
const cairn = (...args) => run(cairnBin, args);
function peer(script, ...args) {
  const command = script.endsWith('.mjs') ? process.execPath : 'python3';
  const result = run(command, [path.join(peers, script), ...args]);
  const line = result.stdout.trim().split('\n').pop() || '{}';
  let json;
  try { json = JSON.parse(line); } catch { json = { raw: result.stdout, stderr: result.stderr }; }
  return { status: result.status, json };
}
function cairnVerify(file, ...flags) {
  const result = cairn('verify', '--json', ...flags, file);
  let report = null;
  try { report = JSON.parse(result.stdout); } catch { /* reported below */ }
  return { status: result.status, report, stderr: result.stderr };
}
const write = (name, content) => {
  const data = typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 2);
  fs.writeFileSync(path.join(dir, name), data);
  return name;
};
// Like run, without blocking the event loop: the loopback server of the OB 2.0 test answers
// the validator from this process while it runs.
function runAsync(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill(), 180_000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}
const lastJsonLine = (stdout) => {
  try { return JSON.parse(stdout.trim().split('\n').pop() || '{}'); } catch { return { raw: stdout }; }
};
// The harness's credential aligns to targetType "ceterms:Skill", which is not in the OB 3.0
// AlignmentTargetType vocabulary (nor an "ext:" extension): the official schema, and so Cairn's shape
// check, refuses it. The credentials signed here use a listed type; the first DCC test shows the refusal.
function makeCredential(options) {
  const credential = ob3.makeCredential(options);
  credential.credentialSubject.achievement.alignment[0].targetType = 'ceasn:Competency';
  return credential;
}
const CLR_CONTEXT = 'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json';
// DCC bundles no CLR context; it gets the bytes Cairn pins (crates/cairn-vc/contexts/SOURCES.md).
const CLR_CONTEXT_FILE = path.join(root, 'crates/cairn-vc/contexts/purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json');
function clrFor(issuer, credentials) {
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', CLR_CONTEXT, 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: 'urn:uuid:3c6f0d7e-2a41-4f7b-9c55-6e2d1f0a9b31',
    type: ['VerifiableCredential', 'ClrCredential'],
    issuer: { id: issuer, type: ['Profile'], name: 'Northbridge Institute of Technology' },
    name: 'Transcript of Learner 7',
    validFrom: '2026-01-01T00:00:00Z',
    partial: true,
    credentialSubject: {
      id: 'did:example:learner-7',
      type: ['ClrSubject'],
      verifiableCredential: credentials,
      association: [{ type: 'Association', associationType: 'isPartOf', sourceId: 'https://northbridge.example.edu/achievements/secure-coding', targetId: 'https://northbridge.example.edu/achievements/security-track' }],
    },
  };
}

const failing = (report) => report.checks.filter((c) => c.ok !== true).map((c) => `${c.id}: ${c.detail}`).join(' | ');

function credentialFor(issuer, extra = {}) {
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: 'urn:uuid:6c1f7a52-8e0b-4d1a-9c3e-2b7f5d9e4a11',
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: 'Secure Coding Essentials',
    issuer: { id: issuer, type: ['Profile'], name: 'Northbridge Institute of Technology', url: 'https://northbridge.example.edu/' },
    validFrom: '2026-01-01T00:00:00Z',
    validUntil: '2099-01-01T00:00:00Z',
    credentialSubject: {
      id: 'did:example:learner-7',
      type: ['AchievementSubject'],
      creditsEarned: 3.5,
      achievement: {
        id: 'https://northbridge.example.edu/achievements/secure-coding',
        type: ['Achievement'],
        achievementType: 'Badge',
        name: 'Secure Coding Essentials',
        description: 'Find\tand fix common web vulnerabilities — ünïcödé, “quotes”, and a line\nbreak.',
        criteria: { narrative: 'Fix **four** issues with tests.' },
        resultDescription: [{
          id: 'https://northbridge.example.edu/achievements/secure-coding#grade',
          type: ['ResultDescription'], name: 'Grade', resultType: 'LetterGrade', allowedValue: ['D', 'C', 'B', 'A'],
        }],
        alignment: [{ type: ['Alignment'], targetName: 'OWASP Top 10', targetUrl: 'https://owasp.org/www-project-top-ten/', targetType: 'ceasn:Competency' }],
      },
    },
    ...extra,
  };
}

describe('interop', () => {
  let key;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-interop-'));
    const made = cairn('keys', 'new', '-o', 'issuer.key');
    assert.equal(made.status, 0, made.stderr);
    key = JSON.parse(fs.readFileSync(path.join(dir, 'issuer.key'), 'utf8'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('what Cairn signs, the peers accept', () => {
    it('a Data Integrity credential passes the DCC and openbadgeslib verifiers', () => {
      write('cred.json', credentialFor(key.controller));
      const signed = cairn('sign', '--key', 'issuer.key', '--format', 'di', '-o', 'signed.json', 'cred.json');
      assert.equal(signed.status, 0, signed.stderr);
      for (const script of ['verify-ob3-di.mjs', 'verify-ob3-di-py.py']) {
        const result = peer(script, 'signed.json');
        assert.equal(result.json.valid, true, `${script}: ${JSON.stringify(result.json)}`);
      }
      const strict = peer('verify-ob3-di.mjs', 'signed.json', '--strict');
      assert.equal(strict.json.valid, true, JSON.stringify(strict.json));
      const own = cairnVerify('signed.json');
      assert.equal(own.status, 0, own.report ? failing(own.report) : own.stderr);
    });

    it('a VC-JWT passes PyJWT, jwcrypto and openbadgeslib', () => {
      const signed = cairn('sign', '--key', 'issuer.key', '--format', 'jwt', '-o', 'signed.jwt', 'cred.json');
      assert.equal(signed.status, 0, signed.stderr);
      const result = peer('verify-ob3-jwt.py', 'signed.jwt');
      assert.equal(result.json.valid, true, JSON.stringify(result.json));
      const own = cairnVerify('signed.jwt');
      assert.equal(own.status, 0, own.report ? failing(own.report) : own.stderr);
    });

    it('baked PNG and SVG badges are read by openbadges-bakery and openbadgeslib', () => {
      write('badge.png', fs.readFileSync(path.join(root, 'docs/images/catalog.png')));
      write('badge.svg', '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>');
      for (const [image, credential] of [['badge.png', 'signed.json'], ['badge.png', 'signed.jwt'], ['badge.svg', 'signed.json'], ['badge.svg', 'signed.jwt']]) {
        const out = `baked-${credential}-${image}`;
        const baked = cairn('bake', image, credential, '-o', out);
        assert.equal(baked.status, 0, baked.stderr);
        const read = peer('unbake.py', out);
        assert.equal(read.json.found, true, JSON.stringify(read.json));
        assert.equal(read.json.own_reader_agrees, true, JSON.stringify(read.json));
        assert.equal(read.json.ob_version, '3.0');
        const own = cairnVerify(out);
        assert.equal(own.status, 0, own.report ? failing(own.report) : own.stderr);
        assert.match(own.report.format, /^(png|svg)\+ob3-(json|jwt)$/);
      }
    });
  });

  describe('what the peers sign, Cairn verifies', () => {
    let did;
    let issuerKey;
    const documentLoader = buildLoader();
    const sign = (credential, k = issuerKey) => ob3.signCredential({ credential, key: k, documentLoader });

    before(async () => {
      const generated = await ob3.didKeyFromSeed(ob3.seedFrom('cairn-interop'));
      issuerKey = generated.key ?? generated;
      did = generated.did ?? issuerKey.controller;
    });

    it('a DCC-signed credential is valid; one outside the official schema is valid with a warning, invalid with --strict', async () => {
      write('dcc-valid.json', await sign(makeCredential({ issuer: did })));
      const own = cairnVerify('dcc-valid.json');
      assert.equal(own.status, 0, own.report ? failing(own.report) : own.stderr);
      // An alignment targetType outside the OB 3.0 list (as DCC's own example has) changes no
      // meaning: DCC accepts it, and so does Cairn, with a warning on the shape check.
      write('dcc-off-schema.json', await sign(ob3.makeCredential({ issuer: did })));
      const off = cairnVerify('dcc-off-schema.json');
      assert.equal(off.status, 0, off.report ? failing(off.report) : off.stderr);
      const shape = off.report.checks.find((c) => c.id === 'shape');
      assert.ok(shape?.ok === true && shape.warnings?.some((w) => /targetType/.test(w) && w.includes('ceterms:Skill')), JSON.stringify(shape));
      const strict = cairnVerify('dcc-off-schema.json', '--strict');
      assert.equal(strict.status, 1, strict.report ? failing(strict.report) : strict.stderr);
      assert.ok(strict.report.checks.some((c) => c.id === 'proof' && c.ok === true), 'the signature itself holds');
    });

    it('tampered, expired, not-yet-valid and wrong-key variants are invalid for the right reason', async () => {
      const valid = JSON.parse(fs.readFileSync(path.join(dir, 'dcc-valid.json'), 'utf8'));
      const tampered = structuredClone(valid);
      tampered.name = 'Something else';
      write('dcc-tampered.json', tampered);
      write('dcc-expired.json', await sign(makeCredential({ issuer: did, validFrom: '2024-01-01T00:00:00Z', validUntil: '2025-01-01T00:00:00Z' })));
      write('dcc-future.json', await sign(makeCredential({ issuer: did, validFrom: '2099-01-01T00:00:00Z', validUntil: '2100-01-01T00:00:00Z' })));
      const other = await ob3.Ed25519Multikey.generate({ controller: did, id: issuerKey.id });
      write('dcc-wrong-key.json', await sign(makeCredential({ issuer: did }), other));
      const wrongContext = structuredClone(valid);
      wrongContext['@context'] = [...wrongContext['@context'], 'https://example.org/unknown-context.json'];
      write('dcc-wrong-context.json', wrongContext);
      for (const [file, check] of [['dcc-tampered.json', 'proof'], ['dcc-expired.json', 'valid_until'], ['dcc-future.json', 'valid_from'], ['dcc-wrong-key.json', 'proof'], ['dcc-wrong-context.json', 'proof']]) {
        const own = cairnVerify(file);
        assert.equal(own.status, 1, `${file}: ${own.report ? failing(own.report) : own.stderr}`);
        assert.ok(own.report.checks.some((c) => c.id === check && c.ok === false), `${file}: ${failing(own.report)}`);
      }
    });

    it('a DCC-signed status list revokes, and a missing one leaves the verdict open', async () => {
      const url = 'https://issuer.example/status/7';
      const list = await ob3.bsl.createList({ length: 131072 });
      list.setStatus(42, true);
      const listCredential = await ob3.bsl.createCredential({ id: url, list, statusPurpose: 'revocation' });
      listCredential.issuer = did;
      listCredential.validFrom = '2025-01-01T00:00:00Z';
      write('list.json', await sign(listCredential));
      const entry = (i) => ({ id: `${url}#${i}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(i), statusListCredential: url });
      write('revoked.json', await sign(makeCredential({ issuer: did, credentialStatus: entry(42) })));
      write('active.json', await sign(makeCredential({ issuer: did, credentialStatus: entry(7) })));
      const revoked = cairnVerify('revoked.json', '--status-list', `${url}=list.json`);
      assert.equal(revoked.status, 1, revoked.report ? failing(revoked.report) : revoked.stderr);
      assert.match(failing(revoked.report), /status: revoked/);
      const active = cairnVerify('active.json', '--status-list', `${url}=list.json`);
      assert.equal(active.status, 0, active.report ? failing(active.report) : active.stderr);
      const unknown = cairnVerify('active.json');
      assert.equal(unknown.status, 2, unknown.report ? failing(unknown.report) : unknown.stderr);
    });

    it('PyJWT-signed VC-JWTs verify, and alg none and HS256 are refused', () => {
      const script = `
import json, sys, base64, jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa, ed25519
from cryptography.hazmat.primitives import serialization
cred = json.load(open('cred.json'))
out = {}
for alg, key in [('ES256', ec.generate_private_key(ec.SECP256R1())), ('RS256', rsa.generate_private_key(public_exponent=65537, key_size=2048))]:
    jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
    jwk['kid'] = 'k-' + alg
    c = dict(cred); c['issuer'] = dict(cred['issuer'], id='https://issuer.example/' + alg)
    claims = dict(c, iss=c['issuer']['id'], jti=c['id'], sub=c['credentialSubject']['id'], nbf=1767225600)
    out[alg] = {'token': jwt.encode(claims, key, algorithm=alg, headers={'kid': jwk['kid']}), 'jwk': jwk}
def b64(d): return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b'=').decode()
claims = dict(cred, iss=cred['issuer']['id'], jti=cred['id'], nbf=1767225600)
out['none'] = b64({'alg': 'none', 'typ': 'JWT'}) + '.' + b64(claims) + '.'
out['HS256'] = jwt.encode(claims, 'public-key-as-secret', algorithm='HS256')
json.dump(out, sys.stdout)
`;
      const made = run(path.join(peers, '.venv/bin/python'), ['-c', script]);
      assert.equal(made.status, 0, made.stderr);
      const tokens = JSON.parse(made.stdout);
      write('jwks.json', { keys: [tokens.ES256.jwk, tokens.RS256.jwk] });
      for (const alg of ['ES256', 'RS256']) {
        write(`${alg}.jwt`, tokens[alg].token);
        const own = cairnVerify(`${alg}.jwt`, '--jwks', 'jwks.json');
        assert.equal(own.status, 0, `${alg}: ${own.report ? failing(own.report) : own.stderr}`);
        const tampered = tokens[alg].token.replace(/\.([^.]+)\./, (_, body) => `.${body.slice(0, -4)}AAAA.`);
        write(`${alg}-tampered.jwt`, tampered);
        assert.notEqual(cairnVerify(`${alg}-tampered.jwt`, '--jwks', 'jwks.json').status, 0, `${alg} tampered`);
      }
      for (const name of ['none', 'HS256']) {
        write(`${name}.jwt`, tokens[name]);
        const own = cairnVerify(`${name}.jwt`, '--jwks', 'jwks.json');
        assert.equal(own.status, 1, `${name}: ${own.report ? failing(own.report) : own.stderr}`);
      }
    });
  });

  describe('CLR 2.0 transcripts, both ways', () => {
    const documentLoader = buildLoader({ urlMap: { [CLR_CONTEXT]: CLR_CONTEXT_FILE } });

    it('a Cairn-signed ClrCredential passes the DCC verifier, and a tampered one does not', async () => {
      write('clr-inner.json', credentialFor(key.controller));
      const inner = cairn('sign', '--key', 'issuer.key', '--format', 'di', '-o', 'clr-inner-signed.json', 'clr-inner.json');
      assert.equal(inner.status, 0, inner.stderr);
      const nested = JSON.parse(fs.readFileSync(path.join(dir, 'clr-inner-signed.json'), 'utf8'));
      write('clr.json', clrFor(key.controller, [nested]));
      const signed = cairn('sign', '--key', 'issuer.key', '--format', 'di', '-o', 'clr-signed.json', 'clr.json');
      assert.equal(signed.status, 0, signed.stderr);
      const clr = JSON.parse(fs.readFileSync(path.join(dir, 'clr-signed.json'), 'utf8'));
      const result = await ob3.verifyCredential({ credential: clr, documentLoader });
      assert.equal(result.verified, true, JSON.stringify(ob3.errorMessages(result)));
      const tampered = structuredClone(clr);
      tampered.credentialSubject.association[0].associationType = 'isChildOf';
      assert.equal((await ob3.verifyCredential({ credential: tampered, documentLoader })).verified, false);

      const own = cairnVerify('clr-signed.json');
      assert.equal(own.status, 0, own.report ? failing(own.report) : own.stderr);
      assert.equal(own.report.format, 'clr-json');
      assert.ok(own.report.checks.some((c) => c.id === 'shape' && /CLR 2\.0 ClrCredential JSON schema/.test(c.detail)), failing(own.report));
      assert.ok(own.report.checks.some((c) => c.id === 'credential[0].proof' && c.ok === true), JSON.stringify(own.report.checks));
    });

    it('a DCC-signed ClrCredential verifies in Cairn, and its tampered nested credential is caught', async () => {
      const generated = await ob3.didKeyFromSeed(ob3.seedFrom('cairn-interop-clr'));
      const issuerKey = generated.key;
      const nested = await ob3.signCredential({ credential: makeCredential({ issuer: generated.did }), key: issuerKey, documentLoader });
      const clr = await ob3.signCredential({ credential: clrFor(generated.did, [nested]), key: issuerKey, documentLoader });
      write('dcc-clr.json', clr);
      const own = cairnVerify('dcc-clr.json');
      assert.equal(own.status, 0, own.report ? failing(own.report) : own.stderr);
      assert.equal(own.report.format, 'clr-json');
      assert.ok(own.report.checks.some((c) => c.id === 'credential[0].proof' && c.ok === true), JSON.stringify(own.report.checks));

      // The transcript is re-signed over a nested credential whose own proof no longer holds.
      const forgedNested = structuredClone(nested);
      forgedNested.name = 'Something else';
      write('dcc-clr-forged.json', await ob3.signCredential({ credential: clrFor(generated.did, [forgedNested]), key: issuerKey, documentLoader }));
      const forged = cairnVerify('dcc-clr-forged.json');
      assert.equal(forged.status, 1, forged.report ? failing(forged.report) : forged.stderr);
      assert.ok(forged.report.checks.some((c) => c.id === 'credential[0].proof' && c.ok === false), failing(forged.report));
      assert.ok(forged.report.checks.some((c) => c.id === 'proof' && c.ok === true), 'the transcript\'s own proof holds');
    });
  });

  describe('OB 2.0 hosted assertions', () => {
    let server;
    let base;
    let revoked = false;
    before(async () => {
      const files = { '/ob2/issuers/1': 'issuer.json', '/ob2/badges/1': 'badge.json' };
      server = http.createServer((request, response) => {
        const url = request.url.split('?')[0];
        if (url === '/ob2/badges/1/image.png') {
          response.writeHead(200, { 'Content-Type': 'image/png' });
          response.end(fs.readFileSync(path.join(root, 'docs/images/catalog.png')));
          return;
        }
        const file = url === '/ob2/assertions/1' ? (revoked ? 'ob2/revoked.json' : 'ob2/assertion.json') : files[url] && `ob2/${files[url]}`;
        if (!file) {
          response.writeHead(404, { 'Content-Type': 'text/plain' });
          response.end('not found');
          return;
        }
        response.writeHead(200, { 'Content-Type': 'application/ld+json' });
        response.end(fs.readFileSync(path.join(dir, file)));
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${server.address().port}`;
      fs.mkdirSync(path.join(dir, 'ob2'));
      // The documents come from cairn-vc's own builders (crates/cairn-vc/examples/ob2_documents.rs).
      // `cargo test --release` builds the example; cargo builds it here when it has not.
      const example = path.join(path.dirname(cairnBin), 'examples/ob2_documents');
      const made = fs.existsSync(example)
        ? await runAsync(example, [base, path.join(dir, 'ob2')])
        : await runAsync('cargo', ['run', '--release', '--quiet', '--manifest-path', path.join(root, 'Cargo.toml'), '-p', 'cairn-vc', '--example', 'ob2_documents', '--', base, path.join(dir, 'ob2')]);
      assert.equal(made.status, 0, made.stderr);
    });
    after(() => server.close());

    it('the 1EdTech OB 2.0 validator accepts Cairn\'s hosted assertion, and so does cairn verify', async () => {
      const url = `${base}/ob2/assertions/1`;
      const result = await runAsync('python3', [path.join(peers, 'validate-ob2.py'), url]);
      const findings = lastJsonLine(result.stdout);
      assert.equal(findings.valid, true, JSON.stringify(findings));
      assert.equal(result.status, 0, result.stderr);
      const own = await runAsync(cairnBin, ['verify', '--json', url]);
      const report = JSON.parse(own.stdout);
      assert.equal(own.status, 0, failing(report));
      assert.equal(report.format, 'ob2-hosted');
    });

    it('once revoked, the validator harness and cairn verify both say so', async () => {
      revoked = true;
      try {
        const url = `${base}/ob2/assertions/1`;
        const findings = lastJsonLine((await runAsync('python3', [path.join(peers, 'validate-ob2.py'), url])).stdout);
        assert.equal(findings.valid, false, JSON.stringify(findings));
        const own = await runAsync(cairnBin, ['verify', '--json', url]);
        assert.equal(own.status, 1, own.stdout);
        assert.match(failing(JSON.parse(own.stdout)), /status: revoked: awarded in error/);
      } finally {
        revoked = false;
      }
    });
  });
});
