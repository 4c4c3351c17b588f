// SIGUSR1 to the primary (logrotate's postrotate) makes every worker reopen its file-log files,
// as nginx does: lines logged after the rotation land in a new file, none are lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '../../helpers/start-gateway';
import { startEchoServer } from '../../helpers/upstream';
import { request } from '../../helpers/http-client';
import { waitFor } from '../../helpers/wait';

const lines = (file: string): Array<{ request: { uri: string }; response: { status: number } }> =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)) : [];

test('file-log through two workers: one JSON line per request, and a new file after SIGUSR1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hyperway-filelog-it-'));
  const upstream = await startEchoServer('up');
  const file = join(dir, 'access.log');
  const gw = await startGateway({
    config: {
      _format_version: '3.0',
      services: [{ name: 's', url: `http://127.0.0.1:${upstream.port}`, routes: [{ name: 'r', paths: ['/r'] }] }],
      plugins: [{ name: 'file-log', config: { path: file } }],
    },
  });
  t.after(async () => {
    await gw.stop();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 20; i++) assert.equal((await request(`${gw.proxyUrl}/r/${i}`)).status, 200);
  await waitFor('20 log lines', () => lines(file).length === 20);
  assert.deepEqual(lines(file).map((l) => l.request.uri).sort(), Array.from({ length: 20 }, (_, i) => `/r/${i}`).sort());
  assert.ok(lines(file).every((l) => l.response.status === 200));

  renameSync(file, `${file}.1`);
  gw.child.kill('SIGUSR1');
  // The reopen travels over IPC; a request after it must land in the new file. Send until one does.
  await waitFor('a line in the new file', async () => {
    assert.equal((await request(`${gw.proxyUrl}/r/after`)).status, 200);
    return lines(file).length > 0;
  }, { timeoutMs: 5000, intervalMs: 100 });
  assert.ok(lines(file).every((l) => l.request.uri === '/r/after'));
  assert.equal(lines(`${file}.1`).length, 20 + lines(`${file}.1`).filter((l) => l.request.uri === '/r/after').length);
  assert.ok(!gw.output().includes('Debugger listening'), 'SIGUSR1 must not start the inspector');
});
