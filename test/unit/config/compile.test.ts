import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compileToBytes, unpackLoaded } from '../../../src/primary/config/compile-task';
import { closeCompilePool, compileInPool, compileInPoolEarly, loadConfigText } from '../../../src/primary/config';
import { canonicalJson } from '../../../src/primary/config/compile';
import { doc, load } from './helpers';
import { decodeMessage, encodeApply, encodeMessage, type PrimaryMessage } from '../../../src/shared/protocol';
import { packedBulkOf, snapshotWith } from '../../../src/shared/snapshot-bulk';
import { ConsumerDirectory } from '../../../src/shared/consumer-directory';
import { Packr } from 'msgpackr';

const TEXT = doc(`services:
  - name: s
    host: backend
    routes:
      - name: r
        methods: [GET]
        hosts: [Example.COM]
        paths: [/api]
        headers:
          X-Env: [Prod]
upstreams:
  - name: backend
    targets: [{target: 127.0.0.1:9001}]
consumers:
  - username: alice
    keyauth_credentials: [{key: k-alice}]
    basicauth_credentials: [{username: ålice, password: pw}]
    acls: [{group: g1}, {group: g0}]
  - username: carol
    custom_id: C-1
    tags: [t1, t2]
    acls: [{group: g2}]
`);

test('snapshot: version as passed, references as indexes, camelCase, lowercased match values', () => {
  const { snapshot } = load(TEXT, {}, 42);
  assert.equal(snapshot.version, 42);
  assert.match(snapshot.hash, /^[0-9a-f]{64}$/);
  assert.equal(snapshot.services[0].upstream, 0);
  assert.equal(snapshot.routes[0].service, 0);
  assert.deepEqual(snapshot.routes[0].hosts, ['example.com']);
  assert.deepEqual(snapshot.routes[0].headers, { 'x-env': ['prod'] });
  assert.equal(snapshot.services[0].connectTimeout, 60000);
  // Plain data only: it crosses processes.
  assert.deepEqual(structuredClone(snapshot), snapshot);
  assert.equal(JSON.parse(JSON.stringify(snapshot)).routes[0].stripPath, true);
});

test('hash: equal for equal configs, different when anything changes', () => {
  const a = load(TEXT).snapshot.hash;
  assert.equal(load(TEXT, {}, 2).snapshot.hash, a);
  assert.equal(load(`# a comment\n${TEXT}`).snapshot.hash, a);
  assert.notEqual(load(TEXT.replace('/api', '/apis')).snapshot.hash, a);
  assert.notEqual(load(TEXT, { HYPERWAY_WORKERS: '2' }).snapshot.hash, a);
  assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
});

test('hash: computed on first read, the same after the entities were read, never in config:apply', () => {
  const known = load(TEXT).snapshot.hash;
  // flattenModel completes the model's records in place: the hash must still be that of the file.
  const entitiesFirst = load(TEXT);
  assert.equal(entitiesFirst.entities.routes.length, 1);
  assert.equal(entitiesFirst.snapshot.hash, known);
  // Workers never read it: the message they get does not carry it (nor make the primary compute it).
  const sent = load(TEXT);
  const msg = decodeMessage<PrimaryMessage>(encodeApply(sent.snapshot));
  assert.ok(msg?.kind === 'config:apply' && !('hash' in msg.snapshot));
  assert.equal(sent.snapshot.hash, known);
  // Copies (prepare, rollback) report the same hash; so does a config from the compile thread.
  assert.equal(snapshotWith(load(TEXT).snapshot, { version: 9 }).hash, known);
  const fromThread = unpackLoaded(compileToBytes({ text: TEXT, file: 'x.yml', env: {}, version: 3 }) as Uint8Array);
  assert.equal(fromThread.snapshot.hash, known);
  const threadMsg = decodeMessage<PrimaryMessage>(encodeApply(fromThread.snapshot));
  assert.ok(threadMsg?.kind === 'config:apply' && !('hash' in threadMsg.snapshot));
});

test('compile-task: a packed config, or problems instead of a throw', () => {
  const ok = compileToBytes({ text: TEXT, file: 'x.yml', env: {}, version: 3 });
  assert.ok(ok instanceof Uint8Array);
  assert.equal(unpackLoaded(ok).snapshot.version, 3);
  const bad = compileToBytes({ text: 'services: []\n', file: 'x.yml', env: {}, version: 3 });
  assert.deepEqual(bad, { ok: false, code: 'HW_ERR_CONFIG_INVALID', problems: [{ path: '_format_version', message: 'required field missing (a declarative config starts with _format_version: "3.0")', line: 1, column: 1 }] });
  const yamlBad = compileToBytes({ text: 'a: [', file: 'x.yml', env: {}, version: 3 });
  assert.equal(!(yamlBad instanceof Uint8Array) && yamlBad.code, 'HW_ERR_CONFIG_YAML');
});

test('config:apply of a compiled-on-the-thread snapshot: its bulk goes as the thread packed it and decodes to the same snapshot', () => {
  const bytes = compileToBytes({ text: TEXT, file: 'x.yml', env: {}, version: 3 });
  assert.ok(bytes instanceof Uint8Array);
  const pooled = unpackLoaded(bytes).snapshot;
  const bulk = packedBulkOf(pooled);
  assert.ok(bulk !== null && bulk.length > 0);
  // A worker gets the consumers and credentials as the directory's bytes: read back as lists here.
  const decode = (m: Buffer): unknown => {
    const msg = decodeMessage<PrimaryMessage>(m);
    if (msg?.kind !== 'config:apply') return msg;
    const { directory, ...rest } = msg.snapshot;
    assert.ok(directory instanceof Uint8Array, 'the consumers travel as a directory');
    return { kind: msg.kind, snapshot: { ...rest, ...new ConsumerDirectory(directory).toLists() } };
  };
  const sent = encodeApply(pooled);
  assert.ok(sent.includes(Buffer.from(bulk)), 'the bytes of the thread, as they are');
  const inline = load(TEXT, {}, 3).snapshot;
  assert.deepEqual(decode(sent), { kind: 'config:apply', snapshot: inline });
  // A changed copy (reload.ts, dns/, tls/) keeps them; a spread one is packed whole, the same.
  const changed = snapshotWith(pooled, { version: 4 });
  assert.equal(packedBulkOf(changed), bulk);
  assert.deepEqual(decode(encodeApply(changed)), { kind: 'config:apply', snapshot: { ...inline, version: 4 } });
  const spread = { ...pooled, version: 5 };
  assert.equal(packedBulkOf(spread), null);
  assert.deepEqual(decode(encodeApply(spread)), { kind: 'config:apply', snapshot: { ...inline, version: 5 } });
  assert.deepEqual(pooled, inline, 'the primary reads the same fields');
});

test('config:apply of a start (packed whole): the directory follows the head in the same buffer; a broken frame decodes to nothing', () => {
  const inline = load(TEXT, {}, 3).snapshot;
  const sent = encodeApply(inline);
  assert.equal(sent[0], 0xc1, 'framed');
  const msg = decodeMessage<PrimaryMessage>(sent);
  assert.ok(msg?.kind === 'config:apply');
  const { directory, ...rest } = msg.snapshot;
  assert.ok(directory instanceof Uint8Array);
  assert.equal(directory.buffer, sent.buffer, 'read where it arrived, not copied');
  const { consumers, credentials, ...head } = inline;
  assert.deepEqual(rest, head);
  assert.deepEqual(new ConsumerDirectory(directory).toLists(), { consumers, credentials });
  const headLength = sent.readUInt32LE(1);
  assert.equal(decodeMessage(sent.subarray(0, 5 + headLength - 1)), null, 'a cut head');
  const other = Buffer.from(sent);
  other.writeUInt32LE(headLength + 7, 1);
  assert.equal(decodeMessage(other), null, 'a head length past the head');
  const notApply = Buffer.concat([Buffer.from([0xc1, 0, 0, 0, 0]), encodeMessage({ kind: 'logs:reopen' })]);
  notApply.writeUInt32LE(notApply.length - 5, 1);
  assert.equal(decodeMessage(notApply), null, 'only config:apply is framed');
});

test('compileInPool gives the same snapshot as inline, and ConfigError on bad input', async () => {
  try {
    const inline = load(TEXT, {}, 5).snapshot;
    const pooled = await compileInPool(TEXT, 'x.yml', {}, 5);
    assert.deepEqual(pooled.snapshot, inline);
    // Entities, warnings and the settings block too (the thread sends them packed, not cloned).
    const rich = `${TEXT}  - username: bob
    custom_id: b-1
    tags: [vip]
    keyauth_credentials: [{ key: k-1 }]
    acls: [{ group: gold }]
    plugins:
      - name: rate-limiting
        config: { minute: 5, limit_by: consumer }
plugins:
  - name: cors
    config: { origins: ['*'], max_age: 3600 }
hyperway:
  workers: 2
  log_level: warn
`;
    const richInline = loadConfigText(rich, 'x.yml', {}, 7);
    const richPooled = await compileInPool(rich, 'x.yml', {}, 7);
    assert.deepEqual(richPooled.snapshot, richInline.snapshot);
    assert.deepEqual(richPooled.entities, richInline.entities);
    assert.deepEqual(richPooled.warnings, richInline.warnings);
    assert.deepEqual(richPooled.settingsBlock, { workers: 2, log_level: 'warn' });
    assert.deepEqual(richInline.settingsBlock, { workers: 2, log_level: 'warn' });
    await assert.rejects(compileInPool('services: []\n', 'x.yml', {}, 6), (e: { code: string; problems: unknown[] }) => e.code === 'HW_ERR_CONFIG_INVALID' && e.problems.length === 1);
  } finally {
    await closeCompilePool();
  }
});

test('loading never mutates the parsed input (compiling twice gives equal snapshots)', () => {
  const one = load(TEXT).snapshot;
  const two = load(TEXT).snapshot;
  assert.deepEqual(one, two);
});

test('entities: made when first read, then the same plain lists for every reader (JSON, structuredClone, msgpackr, assignment)', () => {
  const text = doc('consumers:\n  - username: u\n    keyauth_credentials:\n      - key: k1\nservices:\n  - name: s\n    host: backend\n');
  const expected = JSON.parse(JSON.stringify(load(text).entities)) as Record<string, Array<Record<string, unknown>>>;
  assert.equal(expected.keyauth_credentials[0].key, 'k1');
  assert.deepEqual(expected.keyauth_credentials[0].consumer, { id: expected.consumers[0].id });
  const fresh = (): ReturnType<typeof load>['entities'] => load(text).entities;
  assert.deepEqual(structuredClone(fresh()), expected);
  assert.deepEqual(new Packr({ useRecords: true }).unpack(new Packr({ useRecords: true }).pack(fresh())), expected);
  const e = fresh();
  assert.equal(e.services, e.services, 'the same list on every read');
  e.services.push({ id: 'x' });
  assert.equal(e.services.length, 2);
  const assigned = fresh();
  assigned.routes = [{ id: 'r' }];
  assert.deepEqual(assigned.routes, [{ id: 'r' }]);
  assert.deepEqual(assigned.consumers, expected.consumers);
});

test('compileInPoolEarly: the snapshot first, the entities once entitiesReady resolved, both as inline; ConfigError on bad input', async () => {
  const rich = `${TEXT}  - username: bob
    keyauth_credentials: [{ key: k-1 }]
    acls: [{ group: gold }]
hyperway:
  log_level: warn
`;
  try {
    const inline = loadConfigText(rich, 'x.yml', {}, 4);
    const { loaded, entitiesReady } = await compileInPoolEarly(rich, 'x.yml', {}, 4);
    assert.deepEqual(loaded.snapshot, inline.snapshot);
    assert.deepEqual(loaded.warnings, inline.warnings);
    assert.deepEqual(loaded.settingsBlock, { log_level: 'warn' });
    await entitiesReady;
    assert.deepEqual(loaded.entities, inline.entities);
    await assert.rejects(compileInPoolEarly('services: []\n', 'x.yml', {}, 6), (e: { code: string; problems: unknown[] }) => e.code === 'HW_ERR_CONFIG_INVALID' && e.problems.length === 1);
  } finally {
    await closeCompilePool();
  }
});

test('targets: each upstream keeps its own in file order, top-level and nested interleaved', () => {
  const loaded = loadConfigText(doc(`upstreams:
  - name: a
    targets: [{target: 10.0.0.1:80}, {target: 10.0.0.2:80}]
  - name: b
    targets: [{target: 10.0.1.1:80}]
targets:
  - {upstream: b, target: 10.0.1.2:80}
  - {upstream: a, target: 10.0.0.3:80}
  - {upstream: b, target: 10.0.1.3:80}
`), 'kong.yml', {}, 1);
  const byName = Object.fromEntries(loaded.snapshot.upstreams.map((u) => [u.name, u.targets.map((t) => t.target)]));
  assert.deepEqual(byName.a, ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
  assert.deepEqual(byName.b, ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80']);
});
