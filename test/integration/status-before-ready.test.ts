// /status before every worker has its first config: 503, and Kong's all-zero configuration_hash.
// The real hash (config/lazy-hash.ts: ~0.35 s at 100,000 consumers) is computed once they serve,
// so probes polling /status during a start do not take that CPU from workers building theirs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from '../helpers/http-client';
import { freePorts } from '../helpers/ports';
import { runCli } from '../helpers/start-gateway';
import { stallEnv } from '../helpers/stall-worker';
import { waitFor } from '../helpers/wait';

test('a start whose worker hangs before it listens answers /status 503 with a zero configuration_hash', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hyperway-status-'));
  try {
    const config = join(dir, 'kong.yml');
    writeFileSync(config, '_format_version: "3.0"\nservices:\n  - name: s\n    url: http://127.0.0.1:9/\n    routes: [{ name: r, paths: [/s] }]\n');
    // The first worker to start hangs before any Hyperway code runs (test/helpers/stall-worker.ts).
    writeFileSync(join(dir, 'hang-next-start'), '');
    const [proxyPort, adminPort] = (await freePorts(2)) as [number, number];
    let seen: { status: number; body: { configuration_hash?: string; workers?: unknown[] } } | null = null;
    const result = await runCli(['start', '--config', config], 45_000, {
      ...stallEnv(dir),
      HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
      HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
      HYPERWAY_WORKERS: '2',
      HYPERWAY_DRAIN_TIMEOUT: '500',
    }, (child) => {
      void (async () => {
        try {
          seen = await waitFor('/status while one worker hangs', async () => {
            const r = await request(`http://127.0.0.1:${adminPort}/status`).catch(() => null);
            return r === null ? undefined : { status: r.status, body: JSON.parse(r.text) as { configuration_hash?: string; workers?: unknown[] } };
          }, { timeoutMs: 30_000, intervalMs: 100 });
        } finally {
          child.kill('SIGTERM');
        }
      })();
    });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(seen !== null, `no /status answer\n${result.stderr}`);
    const answer = seen as { status: number; body: { configuration_hash?: string; workers?: unknown[] } };
    assert.equal(answer.status, 503);
    assert.equal(answer.body.configuration_hash, '0'.repeat(64));
    assert.equal(answer.body.workers?.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
