// kong_upstream_target_health through the real gateway: with upstream_health_metrics on, each
// target has one series per state, 1 for the state the primary's health checks put it in; the
// shipped target-down rule's selector (state unhealthy|dns_error == 1) picks only the dead one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../../helpers/start-gateway';
import { startEchoServer } from '../../helpers/upstream';
import { closedPort } from '../../helpers/ports';
import { request } from '../../helpers/http-client';
import { waitFor } from '../../helpers/wait';
import { parseScrape, value } from './scrape';

const STATES = ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error'];

test('target health is exported per state, only with upstream_health_metrics', async (t) => {
  const live = await startEchoServer('live');
  const dead = await closedPort();
  const upstreams = [
    {
      name: 'checked',
      healthchecks: { active: { type: 'tcp', healthy: { interval: 0.2, successes: 1 }, unhealthy: { interval: 0.2, tcp_failures: 1 } } },
      targets: [{ target: `127.0.0.1:${live.port}` }, { target: `127.0.0.1:${dead}` }],
    },
    { name: 'unchecked', targets: [{ target: `127.0.0.1:${live.port}` }] },
  ];
  const services = [{ name: 'a', host: 'checked', routes: [{ name: 'a', paths: ['/a'] }] }, { name: 'b', host: 'unchecked', routes: [{ name: 'b', paths: ['/b'] }] }];
  const gw = await startGateway({
    config: { _format_version: '3.0', upstreams, services, plugins: [{ name: 'prometheus', config: { upstream_health_metrics: true } }] },
  });
  const quiet = await startGateway({ config: { _format_version: '3.0', upstreams, services, plugins: [{ name: 'prometheus' }] } });
  t.after(async () => {
    await Promise.all([gw.stop(), quiet.stop()]);
    await live.close();
  });
  const health = (samples: ReturnType<typeof parseScrape>, upstream: string, port: number, state: string): number | undefined =>
    value(samples, 'kong_upstream_target_health', { upstream, target: `127.0.0.1:${port}`, address: `127.0.0.1:${port}`, state, subsystem: 'http' });

  const samples = await waitFor('the dead target to be marked unhealthy', async () => {
    const s = parseScrape((await request(`${gw.adminUrl}/metrics`)).text);
    return health(s, 'checked', dead, 'unhealthy') === 1 ? s : undefined;
  });
  for (const state of STATES) {
    assert.equal(health(samples, 'checked', dead, state), state === 'unhealthy' ? 1 : 0, `dead target, ${state}`);
    assert.equal(health(samples, 'checked', live.port, state), state === 'healthy' ? 1 : 0, `live target, ${state}`);
    assert.equal(health(samples, 'unchecked', live.port, state), state === 'healthchecks_off' ? 1 : 0, `unchecked target, ${state}`);
  }
  const down = samples.filter((s) => s.name === 'kong_upstream_target_health' && /^(unhealthy|dns_error)$/.test(s.labels.state) && s.value === 1);
  assert.deepEqual(down.map((s) => s.labels.target), [`127.0.0.1:${dead}`]);
  // Traffic still flows to the live target meanwhile.
  assert.equal((await request(`${gw.proxyUrl}/a`)).status, 200);

  const plain = (await request(`${quiet.adminUrl}/metrics`)).text;
  assert.equal(parseScrape(plain).some((s) => s.name === 'kong_upstream_target_health'), false, 'off unless upstream_health_metrics');
});
