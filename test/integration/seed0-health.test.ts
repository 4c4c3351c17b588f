/**
 * The seed-0 article's story (../shared/seed-configs/seed0-health-checks.kong.yml), with the file
 * corrected as `hyperway check` says: healthchecks move to an upstream named after the service
 * host, `active.interval` becomes `active.healthy.interval` + `active.unhealthy.interval`, and
 * `active.http_status` goes (active.healthy.http_statuses already says [200]). The only other
 * change: intervals of 0.2 s instead of 5 s, so the story takes seconds, and the target address
 * is the local upstream. Stop the upstream: a clear 503 within the configured intervals; start
 * it: traffic resumes without a reload.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { checkConfigFile } from '../../src/primary/config';
import { request } from '../helpers/http-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startHealthTarget, type HealthTarget } from '../helpers/health-target';
import { waitFor } from '../helpers/wait';

const SEED = path.resolve(__dirname, '../../../../shared/seed-configs/seed0-health-checks.kong.yml');
const skip = !existsSync(SEED) && !process.env.CI ? `seed config not found at ${SEED}` : false;
const INTERVAL = 0.2;

interface SeedChecks { active: { http_status?: unknown; interval?: unknown; healthy: Record<string, unknown>; unhealthy: Record<string, unknown> } }
interface SeedDoc { services: Array<{ url: string; healthchecks?: SeedChecks }>; upstreams?: unknown[] }

/** The seed file corrected as `hyperway check` names each mistake. */
function corrected(port: number): SeedDoc {
  const doc = parse(readFileSync(SEED, 'utf8')) as SeedDoc;
  const service = doc.services[0];
  const hc = service.healthchecks as SeedChecks;
  delete service.healthchecks;
  delete hc.active.http_status;
  delete hc.active.interval; // was 5 (seconds)
  hc.active.healthy.interval = INTERVAL;
  hc.active.unhealthy.interval = INTERVAL;
  const host = new URL(service.url).hostname;
  doc.upstreams = [{ name: host, healthchecks: hc, targets: [{ target: `127.0.0.1:${port}` }] }];
  return doc;
}

describe('seed 0: health checks as the article tells it', { skip }, () => {
  let app: HealthTarget;
  let gw: Gateway;
  let dir: string;

  before(async () => {
    app = await startHealthTarget('my-microservice', '/healthz');
    dir = mkdtempSync(path.join(tmpdir(), 'hw-seed0-'));
  });

  after(async () => {
    await gw?.stop();
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the corrected file checks clean', () => {
    const file = path.join(dir, 'kong.yml');
    writeFileSync(file, stringify(corrected(app.port)));
    const r = checkConfigFile(file, {});
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.warnings, []);
  });

  it('stop the upstream: 503 within the configured intervals; start it: traffic resumes without a reload', { timeout: 30000 }, async () => {
    gw = await startGateway({ config: corrected(app.port), workers: 2 });
    assert.equal((await request(`${gw.proxyUrl}/data`)).status, 200);
    await app.stop();
    // tcp_failures: 3 at 0.2 s (active), or 3 refused connects (passive): well within 5 s.
    await waitFor('a 503 with no peer left', async () => {
      const r = await request(`${gw.proxyUrl}/data`, { headers: { accept: 'application/json' } });
      return r.status === 503 && r.json().message === 'failure to get a peer from the ring-balancer';
    }, { timeoutMs: 5000 }).catch((e: Error) => assert.fail(`${e.message}\n${gw.output().slice(-3000)}`));
    const probesBefore = app.probes.length;
    await app.start();
    // successes: 3 at 0.2 s.
    await waitFor('traffic resumes', async () => (await request(`${gw.proxyUrl}/data`)).status === 200, { timeoutMs: 5000 })
      .catch((e: Error) => assert.fail(`${e.message}\n${gw.output().slice(-3000)}`));
    assert.ok(app.probes.length - probesBefore >= 3, 'brought back by 3 successful probes');
    assert.deepEqual((await gw.status()).workers.map((w) => w.config_version), [1, 1], 'no reload happened');
  });
});
