// The consumer directory (shared/consumer-directory.ts): what the primary encodes is what a worker
// looks up, checked against the lists and against Maps built the way the worker used to build them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsumerDirectory, encodeDirectory, hashKey } from '../../../src/shared/consumer-directory';
import type { ConsumerSnap, CredentialsSnap } from '../../../src/shared/snapshot';

const CONSUMERS: ConsumerSnap[] = [
  { id: 'c0ffee00-0000-4000-8000-000000000001', username: 'alice', customId: null, tags: [] },
  { id: 'C0FFEE00-0000-4000-8000-00000000000B', username: null, customId: 'bob-42', tags: ['t1', 'ünïcode'] },
  { id: 'c0ffee00-0000-4000-8000-000000000003', username: 'carol€', customId: 'x'.repeat(300), tags: ['€'.repeat(2000)] },
  { id: 'c0ffee00-0000-4000-8000-000000000004', username: 'dave', customId: null, tags: [] },
];

const CREDENTIALS: CredentialsSnap = {
  keyauth: [
    { id: 'k0', key: 'secret-a', consumer: 0 },
    { id: 'k1', key: 'secret-b', consumer: 1 },
    { id: 'k2', key: 'clé-ü', consumer: 2 },
  ],
  basicauth: [{ id: 'b0', username: 'aladdin', passwordHash: 'ab'.repeat(20), consumer: 0 }],
  jwt: [
    { id: 'j0', key: 'iss-hs', secret: 'shh', algorithm: 'HS256', rsaPublicKey: null, consumer: 1 },
    { id: 'j1', key: 'iss-rs', secret: null, algorithm: 'RS256', rsaPublicKey: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', consumer: 3 },
  ],
  // Interleaved across consumers: each consumer's groups keep file order.
  acls: [
    { id: 'a0', group: 'g2', consumer: 0 },
    { id: 'a1', group: 'admins', consumer: 2 },
    { id: 'a2', group: 'g1', consumer: 0 },
    { id: 'a3', group: 'grüppe', consumer: 2 },
  ],
};

const dir = new ConsumerDirectory(encodeDirectory(CONSUMERS, CREDENTIALS));

test('the lists come back as they went in: nulls, tags, UTF-8, long strings, credential order', () => {
  assert.deepEqual(dir.toLists(), { consumers: CONSUMERS, credentials: CREDENTIALS });
  assert.equal(dir.consumerCount, 4);
  assert.deepEqual([dir.keyauthCount, dir.basicauthCount, dir.jwtCount, dir.aclCount], [3, 1, 2, 4]);
});

test('credentials by what a request presents, each with its consumer; near misses find nothing', () => {
  const a = dir.keyauth('secret-a');
  assert.deepEqual(a, { id: 'k0', key: 'secret-a', consumer: CONSUMERS[0] });
  assert.equal(dir.keyauth('secret-a'), a, 'the same record gives the same object');
  assert.equal(a!.consumer, dir.consumer(0), 'and the same consumer object');
  assert.deepEqual(dir.keyauth('clé-ü'), { id: 'k2', key: 'clé-ü', consumer: CONSUMERS[2] });
  for (const miss of ['', 'secret-', 'secret-aa', 'Secret-a', 'secret-c', 'clé-u', 'clé-üü', 'aladdin']) assert.equal(dir.keyauth(miss), undefined, miss);
  assert.deepEqual(dir.basicauth('aladdin'), { id: 'b0', username: 'aladdin', passwordHash: 'ab'.repeat(20), consumer: CONSUMERS[0] });
  assert.equal(dir.basicauth('secret-a'), undefined);
  assert.deepEqual(dir.jwt('iss-rs'), { ...CREDENTIALS.jwt[1], consumer: CONSUMERS[3] });
  assert.deepEqual(dir.jwt('iss-hs'), { ...CREDENTIALS.jwt[0], consumer: CONSUMERS[1] });
  assert.equal(dir.jwt('iss'), undefined);
  assert.deepEqual(dir.jwtIds(), ['j0', 'j1']);
});

test('consumers by id in any case, then by username; ACL groups by consumer id in file order', () => {
  assert.equal(dir.findConsumer('c0ffee00-0000-4000-8000-00000000000b'), dir.consumer(1));
  assert.equal(dir.findConsumer('C0FFEE00-0000-4000-8000-000000000001'), dir.consumer(0));
  assert.equal(dir.findConsumer('alice'), dir.consumer(0));
  assert.equal(dir.findConsumer('carol€'), dir.consumer(2));
  assert.equal(dir.findConsumer('Alice'), null, 'a username is matched as written');
  assert.equal(dir.findConsumer('bob-42'), null, 'custom_id is not an anonymous key');
  assert.equal(dir.findConsumer(''), null);
  assert.equal(dir.consumerId(1), 'C0FFEE00-0000-4000-8000-00000000000B', 'the id as written');
  assert.deepEqual(dir.aclGroups(CONSUMERS[0].id), ['g2', 'g1']);
  assert.deepEqual(dir.aclGroups(CONSUMERS[2].id), ['admins', 'grüppe']);
  assert.equal(dir.aclGroups(CONSUMERS[1].id), undefined);
  assert.equal(dir.aclGroups('nobody'), undefined);
});

test('at scale every key is found with its own record and absent keys are not, as with Maps', () => {
  const n = 20_000;
  const consumers: ConsumerSnap[] = [];
  const creds: CredentialsSnap = { keyauth: [], basicauth: [], jwt: [], acls: [] };
  for (let i = 0; i < n; i++) {
    consumers.push({ id: `id-${i.toString(36)}`, username: i % 3 === 0 ? null : `user${i}`, customId: null, tags: [] });
    creds.keyauth.push({ id: `k${i}`, key: `key-${((i * 2654435761) >>> 0).toString(36)}`, consumer: i });
  }
  // A repeated key: the later record answers, as Map.set kept the last.
  creds.keyauth.push({ id: 'again', key: creds.keyauth[7].key, consumer: 9 });
  const keys = new Map(creds.keyauth.map((k) => [k.key, k]));
  const d = new ConsumerDirectory(encodeDirectory(consumers, creds));
  for (const [key, k] of keys) {
    const got = d.keyauth(key);
    assert.equal(got?.id, k.id, key);
    assert.equal(got?.consumer.id, consumers[k.consumer].id);
  }
  assert.equal(d.keyauth(creds.keyauth[7].key)?.id, 'again');
  for (let i = 0; i < n; i++) {
    assert.equal(d.keyauth(`kez-${i}`), undefined);
    assert.equal(d.findConsumer(`id-${i.toString(36)}`)?.id, consumers[i].id);
    assert.equal(d.findConsumer(`user${i}`)?.username ?? null, consumers[i].username);
  }
});

test('read in place from any byte offset (a view into a decoded message); no consumers at all', () => {
  const bytes = encodeDirectory(CONSUMERS, CREDENTIALS);
  for (const shift of [1, 2, 3]) {
    const host = new Uint8Array(bytes.length + shift);
    host.set(bytes, shift);
    const d = new ConsumerDirectory(host.subarray(shift));
    assert.deepEqual(d.keyauth('secret-b'), { id: 'k1', key: 'secret-b', consumer: CONSUMERS[1] });
    assert.deepEqual(d.aclGroups(CONSUMERS[2].id), ['admins', 'grüppe']);
  }
  const empty = new ConsumerDirectory(encodeDirectory([], undefined));
  assert.equal(empty.keyauth('x'), undefined);
  assert.equal(empty.findConsumer('x'), null);
  assert.deepEqual(empty.toLists(), { consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });
});

test('bytes that are not a directory are refused; a full table ends a probe instead of spinning', { timeout: 10_000 }, () => {
  const bytes = encodeDirectory(CONSUMERS, CREDENTIALS);
  assert.throws(() => new ConsumerDirectory(bytes.subarray(0, 20)), /truncated/);
  assert.throws(() => new ConsumerDirectory(bytes.subarray(0, bytes.length - 1)), /length/);
  const other = Uint8Array.from(bytes);
  other[0] ^= 0xff;
  assert.throws(() => new ConsumerDirectory(other), /magic/);
  const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const tablesAt = view(bytes).getUint32(11 * 4, true);
  const bigCap = Uint8Array.from(bytes);
  view(bigCap).setUint32(tablesAt, 0x7fffffff, true);
  assert.throws(() => new ConsumerDirectory(bigCap), /table/);
  const shuffled = Uint8Array.from(bytes);
  view(shuffled).setUint32(7 * 4, 3, true); // keyauth section before the header's end
  assert.throws(() => new ConsumerDirectory(shuffled), /order/);
  // Every byId slot names consumer 0: a miss probes the whole table once and ends.
  const full = Uint8Array.from(bytes);
  const cap = view(full).getUint32(tablesAt, true);
  for (let i = 0; i < cap; i++) view(full).setUint32(tablesAt + 4 + i * 4, 1, true);
  assert.equal(new ConsumerDirectory(full).consumerIndexById('nobody'), -1);
});

test('a lone surrogate (a JSON or YAML \\ud800 escape) is stored as U+FFFD and still finds its record', () => {
  const d = new ConsumerDirectory(encodeDirectory(
    [{ id: 'i1', username: 'ann\ud800', customId: null, tags: [] }],
    { keyauth: [{ id: 'k1', key: 'k\udc00ey', consumer: 0 }], basicauth: [], jwt: [], acls: [] },
  ));
  assert.equal(d.findConsumer('ann\ud800')?.id, 'i1');
  assert.equal(d.keyauth('k\udc00ey')?.id, 'k1');
  assert.equal(d.consumer(0).username, 'ann\ufffd', 'what UTF-8 can carry');
  assert.equal(d.keyauth('k\ud800ey')?.id, 'k1', 'any lone surrogate reads as U+FFFD');
  assert.equal(hashKey('k\ud800ey'), hashKey('k\ufffdey'), 'and hashes as it');
  assert.equal(d.keyauth('key'), undefined);
});
