// Side files: a large config:apply written beside the shared segment for the workers to map
// (primary/supervisor/config-files.ts). They go with their segment: destroySegment removes them, a
// reap removes those whose segment is gone, and a reader never maps past what the file holds.
//
// Every segment and file here carries a prefix of this test process's own (see shm.test.ts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createSegment, destroySegment, readSideFile, removeStaleSegments, sideFilePath, SHM_PREFIX, STALE_AFTER_S, writeSideFile } from '../../../src/shared/shm';
import { ConfigFiles, FILE_MIN_BYTES } from '../../../src/primary/supervisor/config-files';

const PREFIX = `${SHM_PREFIX}test-${process.pid}-${randomBytes(4).toString('hex')}.`;
const ours = (): string[] => fs.readdirSync('/dev/shm').filter((e) => e.startsWith(PREFIX)).sort();

after(() => {
  for (const e of ours()) fs.rmSync(`/dev/shm/${e}`, { force: true });
});

const payload = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

test('a side file reads back as written: mapped the first time, a copy for a path mapped before', () => {
  const seg = createSegment(process.pid, 1, PREFIX);
  try {
    const path = sideFilePath(seg, 'config-1');
    assert.equal(path, `/dev/shm${seg.name}.config-1`);
    const bytes = payload(100_000, 1);
    writeSideFile(path, bytes);
    // The file holds shm-typed-array's header (the length as a u64) and then the bytes.
    assert.equal(fs.statSync(path).size, 8 + bytes.length);
    const first = readSideFile(path);
    const second = readSideFile(path);
    assert.ok(first.equals(bytes) && second.equals(bytes));
    // The first is the shared mapping: a write through it shows in the file (the second is a copy).
    second[0] ^= 0xff;
    assert.equal(fs.readFileSync(path)[8], bytes[0]);
    first[1] ^= 0xff;
    assert.equal(fs.readFileSync(path)[9], bytes[1] ^ 0xff);
  } finally {
    destroySegment(seg);
  }
});

test('a side file shorter than its header says is not mapped (no SIGBUS past its end) and does not read', () => {
  const seg = createSegment(process.pid, 1, PREFIX);
  try {
    const path = sideFilePath(seg, 'config-2');
    writeSideFile(path, payload(50_000, 2));
    fs.truncateSync(path, 8 + 20_000);
    assert.throws(() => readSideFile(path), /does not match its header/);
  } finally {
    destroySegment(seg);
  }
});

test("destroySegment removes its segment's side files and no other segment's", () => {
  const a = createSegment(process.pid, 1, PREFIX);
  const b = createSegment(process.pid, 1, PREFIX);
  try {
    for (const seg of [a, b]) for (const v of [1, 2]) writeSideFile(sideFilePath(seg, `config-${v}`), payload(10, v));
    destroySegment(a);
    assert.deepEqual(ours(), [b.name.slice(1), `${b.name.slice(1)}.config-1`, `${b.name.slice(1)}.config-2`]);
  } finally {
    destroySegment(b);
  }
  assert.deepEqual(ours(), []);
});

test("a reap removes side files whose segment is gone or stale, and keeps a live segment's", () => {
  const live = createSegment(process.pid, 1, PREFIX);
  const dead = createSegment(process.pid, 1, PREFIX);
  try {
    writeSideFile(sideFilePath(live, 'config-3'), payload(10, 3));
    writeSideFile(sideFilePath(dead, 'config-3'), payload(10, 3));
    // An orphan: its segment went without taking it (a primary killed between the two unlinks).
    const orphan = `/dev/shm/${PREFIX}${process.pid}.deadbeef.config-7`;
    writeSideFile(orphan, payload(10, 7));
    const now = Math.floor(Date.now() / 1000);
    Atomics.store(dead.words, 5, now - STALE_AFTER_S - 5);
    assert.deepEqual(removeStaleSegments(now, PREFIX), [dead.name]);
    assert.deepEqual(ours(), [live.name.slice(1), `${live.name.slice(1)}.config-3`]);
  } finally {
    destroySegment(live);
  }
});

test('ConfigFiles: a small payload goes over the channel, a large one to one file per version, kept until every live worker moved past it', () => {
  const seg = createSegment(process.pid, 1, PREFIX);
  try {
    const files = new ConfigFiles(seg);
    assert.equal(files.pathFor(1, payload(FILE_MIN_BYTES - 1, 0)), null);
    const big = payload(FILE_MIN_BYTES, 5);
    const p5 = files.pathFor(5, big);
    assert.equal(p5, sideFilePath(seg, 'config-5'));
    assert.ok(readSideFile(p5 as string).equals(big));
    // The same message again: the same file, not written twice. Another payload under a version
    // already written goes over the channel: a file workers may have mapped is never rewritten.
    const ino = fs.statSync(p5 as string).ino;
    assert.equal(files.pathFor(5, big), p5);
    assert.equal(files.pathFor(5, payload(FILE_MIN_BYTES, 9)), null);
    assert.equal(fs.statSync(p5 as string).ino, ino);
    assert.ok(readSideFile(p5 as string).equals(big));
    const p6 = files.pathFor(6, payload(FILE_MIN_BYTES, 6)) as string;
    // Version 6 is current; one live worker is still on 5 (or before): both files stay.
    files.sweep(6, [6, 5]);
    assert.ok(fs.existsSync(p5 as string) && fs.existsSync(p6));
    // Both moved past 5 (one by rejecting 6, which counts): 5 goes, the current one never does.
    files.sweep(6, [6, 6]);
    assert.equal(fs.existsSync(p5 as string), false);
    files.sweep(6, [7, 7]);
    assert.ok(fs.existsSync(p6));
    // A file a worker could not read is forgotten: removed, and written anew when next asked for.
    files.forget(6);
    assert.equal(fs.existsSync(p6), false);
    const again = payload(FILE_MIN_BYTES, 7);
    assert.equal(files.pathFor(6, again), p6);
    assert.ok(readSideFile(p6).equals(again));
  } finally {
    destroySegment(seg);
  }
});

test('ConfigFiles: a file that cannot be written sends the payload over the channel and leaves nothing behind', () => {
  // A segment name under a directory that does not exist: every write fails (as a full tmpfs does).
  const files = new ConfigFiles({ name: `/${PREFIX}missing-dir/x`, words: new Int32Array(16), slots: 0 });
  assert.equal(files.pathFor(1, payload(FILE_MIN_BYTES, 1)), null);
  assert.deepEqual(ours(), []);
});
