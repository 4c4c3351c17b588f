import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handler } from '../../../src/plugins/file-log/handler';
import { flushFileLogs, reopenFileLogs } from '../../../src/plugins/file-log/writer';
import { buildPluginEnv } from '../../../src/plugins/env';
import type { LogEntry } from '../../../src/plugins/types';

const env = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });
const entry = (n: number): LogEntry => ({ request: { method: 'GET', uri: `/r/${n}` } } as unknown as LogEntry);
const readLines = (p: string): unknown[] => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

test('file-log appends one JSON line per entry, in order, without blocking the caller', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hyperway-filelog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'access.log');
  const conf = handler.configure!({ path, reopen: false }, env);
  for (let i = 0; i < 100; i++) handler.log!(entry(i), conf);
  assert.equal(existsSync(path), false, 'nothing is written synchronously');
  await flushFileLogs();
  const got = readLines(path) as LogEntry[];
  assert.equal(got.length, 100);
  assert.deepEqual(got.map((e) => e.request.uri), Array.from({ length: 100 }, (_, i) => `/r/${i}`));
});

test('file-log: after a rotation, SIGUSR1 (reopen) makes the next lines go to a new file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hyperway-filelog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'access.log');
  const conf = handler.configure!({ path, reopen: false }, env);
  handler.log!(entry(1), conf);
  await flushFileLogs();
  renameSync(path, `${path}.1`); // logrotate moves the file; the open descriptor follows it
  handler.log!(entry(2), conf);
  await flushFileLogs();
  assert.equal(existsSync(path), false, 'without reopen the old descriptor is still written');
  reopenFileLogs();
  handler.log!(entry(3), conf);
  await flushFileLogs();
  assert.deepEqual((readLines(`${path}.1`) as LogEntry[]).map((e) => e.request.uri), ['/r/1', '/r/2']);
  assert.deepEqual((readLines(path) as LogEntry[]).map((e) => e.request.uri), ['/r/3']);
});

test('file-log with reopen: true follows a rotated file on the next batch', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hyperway-filelog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'reopen.log');
  const conf = handler.configure!({ path, reopen: true }, env);
  handler.log!(entry(1), conf);
  await flushFileLogs();
  renameSync(path, `${path}.1`);
  handler.log!(entry(2), conf);
  await flushFileLogs();
  assert.deepEqual((readLines(path) as LogEntry[]).map((e) => e.request.uri), ['/r/2']);
});
