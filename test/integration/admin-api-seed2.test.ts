/**
 * The seed article's Admin API walkthrough (../shared/seed-configs/seed2-admin-api-walkthrough.sh),
 * run unchanged with bash and curl against a gateway that starts with no entities and two real
 * upstreams. Skipped when the shared folder is not next to the repository.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';

const SCRIPT = resolve(__dirname, '../../../../shared/seed-configs/seed2-admin-api-walkthrough.sh');
const skip = existsSync(SCRIPT) ? false : `seed script not found at ${SCRIPT}`;

function runScript(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile('bash', [SCRIPT], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('seed 2: the Admin API walkthrough script runs unchanged', { skip }, () => {
  let up1: EchoServer;
  let up2: EchoServer;
  let gw: Gateway;

  before(async () => {
    up1 = await startEchoServer('up1');
    up2 = await startEchoServer('up2');
    gw = await startGateway({ config: { _format_version: '3.0' } });
  });
  after(async () => {
    await gw?.stop();
    await up1?.close();
    await up2?.close();
  });

  it('every call succeeds and the four final requests go round-robin over both targets', { timeout: 90_000 }, async () => {
    const r = await runScript({
      ADMIN: `127.0.0.1:${gw.adminPort}`,
      PROXY: `127.0.0.1:${gw.proxyPort}`,
      UP1: `127.0.0.1:${up1.port}`,
      UP2: `127.0.0.1:${up2.port}`,
    });
    assert.equal(r.code, 0, `script failed:\n${r.stderr}\n${r.stdout}\n${gw.output()}`);
    // The one expected failure: deleting the service while its route exists (Kong refuses it too).
    assert.match(r.stderr, /returned error: 400/);
    // curl prints the Admin API's answers without a newline: pick out the echo records it printed.
    const echoed = [...r.stdout.matchAll(/\{"method":"GET","url":"([^"]*)".*?"server":"(up\d)"\}/g)].map((m) => ({ url: m[1], server: m[2] }));
    assert.equal(echoed.length, 5, r.stdout); // one through the first service, four through the upstream
    const last4 = echoed.slice(-4);
    // strip_path defaults to true: /mockbin reaches the upstream as /.
    assert.ok(echoed.every((x) => x.url === '/'), JSON.stringify(echoed));
    // The first went to the service pointing straight at UP1.
    assert.equal(echoed[0].server, 'up1');
    // Each worker keeps its own round-robin wheel (as each of Kong's nginx workers does), so four
    // requests over two workers give one worker at least two in a row: both targets are reached.
    const servers = new Set(last4.map((x) => x.server));
    assert.deepEqual([...servers].sort(), ['up1', 'up2'], JSON.stringify(last4));
  });
});
