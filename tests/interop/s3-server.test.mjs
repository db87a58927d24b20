// The S3 test server of the cluster tests (lib/cluster.mjs's startS3: moto_server, from PyPI,
// pinned in tests/interop/peers/requirements-s3.txt) checked with boto3, the AWS SDK for Python,
// configured only by the AWS_* variables the harness hands Cairn and addressing buckets by path as
// Cairn does: a bucket the harness creates exists; objects are put, read back byte for byte,
// listed (also under a prefix and past a page of 1,000 keys), and deleted; a bucket nobody
// created is NoSuchBucket. The harness's own listKeys and getObject agree with what boto3 wrote.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { peers } from './lib/cairn.mjs';
import { s3Python, startS3 } from './lib/cluster.mjs';

/** Runs `script` in the venv's Python with boto3 (`s3`, path-style) and the S3 env; its JSON line. */
function boto3(env, script, input = '') {
  return new Promise((resolve, reject) => {
    const child = spawn(s3Python, ['-c', `
import json, sys, boto3
from botocore.config import Config
s3 = boto3.client('s3', config=Config(s3={'addressing_style': 'path'}))
${script}`], { cwd: peers, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) reject(new Error(`boto3 exited ${status}:\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
    child.stdin.end(input);
  });
}

describe('the S3 test server (moto_server) answers boto3 as S3 does', () => {
  let s3;
  const bucket = 'cairn-s3-harness';

  before(async () => {
    s3 = await startS3();
    await s3.createBucket(bucket);
  }, { timeout: 60_000 });

  after(async () => {
    if (s3) await s3.stop();
  });

  it('the harness\'s bucket exists, and one nobody created is NoSuchBucket', { timeout: 60_000 }, async () => {
    const seen = await boto3(s3.env, `
names = [b['Name'] for b in s3.list_buckets()['Buckets']]
s3.head_bucket(Bucket='${bucket}')
try:
    s3.list_objects_v2(Bucket='cairn-nobody-made-this')
    missing = None
except s3.exceptions.NoSuchBucket as e:
    missing = e.response['Error']['Code']
print(json.dumps({'names': names, 'missing': missing}))`);
    assert.deepEqual(seen, { names: [bucket], missing: 'NoSuchBucket' });
    assert.deepEqual(await s3.listKeys(bucket), []);
  });

  it('put, get, list (by prefix and past one page) and delete through boto3', { timeout: 120_000 }, async () => {
    const bytes = crypto.randomBytes(70_000);
    const seen = await boto3(s3.env, `
data = sys.stdin.buffer.read()
s3.put_object(Bucket='${bucket}', Key='cluster/evidence/one.bin', Body=data, ContentType='application/octet-stream')
got = s3.get_object(Bucket='${bucket}', Key='cluster/evidence/one.bin')
body = got['Body'].read()
for i in range(1005):
    s3.put_object(Bucket='${bucket}', Key='cluster/many/%04d.txt' % i, Body=b'%d' % i)
s3.put_object(Bucket='${bucket}', Key='elsewhere.txt', Body=b'x')
first = s3.list_objects_v2(Bucket='${bucket}', Prefix='cluster/many/')
keys = []
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='${bucket}', Prefix='cluster/'):
    keys += [o['Key'] for o in page.get('Contents', [])]
print(json.dumps({'same': body == data, 'length': got['ContentLength'], 'etag_is_md5': got['ETag'].strip('"') == __import__('hashlib').md5(data).hexdigest(),
                  'first_page': first['KeyCount'], 'truncated': first['IsTruncated'], 'keys': len(keys)}))`, bytes);
    assert.deepEqual(seen, { same: true, length: bytes.length, etag_is_md5: true, first_page: 1000, truncated: true, keys: 1006 });

    // The harness reads what boto3 wrote.
    const keys = await s3.listKeys(bucket);
    assert.equal(keys.length, 1007);
    assert.ok(keys.includes('cluster/evidence/one.bin') && keys.includes('elsewhere.txt'));
    assert.deepEqual(await s3.getObject(bucket, 'cluster/evidence/one.bin'), bytes);

    const deleted = await boto3(s3.env, `
s3.delete_object(Bucket='${bucket}', Key='cluster/evidence/one.bin')
try:
    s3.get_object(Bucket='${bucket}', Key='cluster/evidence/one.bin')
    code = None
except s3.exceptions.NoSuchKey as e:
    code = e.response['Error']['Code']
print(json.dumps({'code': code}))`);
    assert.deepEqual(deleted, { code: 'NoSuchKey' });
    assert.ok(!(await s3.listKeys(bucket)).includes('cluster/evidence/one.bin'));
  });
});
