/**
 * Active checks of type https (README "Health checks"): the probe speaks TLS, sends `https_sni`
 * as the server name, and `https_verify_certificate` decides whether a self-signed certificate
 * fails the handshake (a TCP failure, as Kong counts it). The certificate is a test fixture
 * (test/fixtures/tls, self-signed for localhost and 127.0.0.1, valid for 100 years).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { listenLocal } from '../helpers/ports';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { waitFor } from '../helpers/wait';

const TLS = resolve(__dirname, '../../../test/fixtures/tls');

describe('https health checks', () => {
  let server: Server;
  let port: number;
  let gw: Gateway;
  const sni: Array<string | false | null> = [];

  before(async () => {
    server = createServer({ key: readFileSync(`${TLS}/self-signed.key`), cert: readFileSync(`${TLS}/self-signed.crt`) }, (req, res) => {
      sni.push((req.socket as TLSSocket).servername);
      res.end('ok');
    });
    port = await listenLocal(server);
    const active = (verify: boolean): object => ({
      type: 'https',
      http_path: '/health',
      https_sni: 'probe.example',
      https_verify_certificate: verify,
      healthy: { interval: 0.2, successes: 1 },
      unhealthy: { interval: 0.2, tcp_failures: 1 },
    });
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        upstreams: [
          { name: 'no-verify', healthchecks: { active: active(false) }, targets: [{ target: `127.0.0.1:${port}` }] },
          { name: 'verify', healthchecks: { active: active(true) }, targets: [{ target: `127.0.0.1:${port}` }] },
        ],
        services: [
          { name: 'a', host: 'no-verify', protocol: 'https', routes: [{ name: 'a', paths: ['/a'] }] },
          { name: 'b', host: 'verify', protocol: 'https', routes: [{ name: 'b', paths: ['/b'] }] },
        ],
      },
      workers: 2,
    });
  });

  after(async () => {
    await gw?.stop();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  const health = async (upstream: string): Promise<string> => (await gw.admin(`/upstreams/${upstream}/health`)).json<{ data: Array<{ health: string }> }>().data[0].health;

  it('probes over TLS with https_sni; a certificate that does not verify takes the target out only when verification is on', { timeout: 20000 }, async () => {
    await waitFor('a probe with the SNI', () => sni.includes('probe.example'), { timeoutMs: 5000 });
    await waitFor('verify: UNHEALTHY', async () => (await health('verify')) === 'UNHEALTHY', { timeoutMs: 5000 })
      .catch((e: Error) => assert.fail(`${e.message}\n${gw.output().slice(-2000)}`));
    assert.equal(await health('no-verify'), 'HEALTHY');
  });
});
