import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../../helpers/upstream';
import { waitFor } from '../../helpers/wait';

interface Line {
  request: { method: string; uri: string; headers: Record<string, string> };
  response: { status: number };
  latencies: { request: number; kong: number; proxy: number };
  route: { name: string } | null;
  service: { name: string } | null;
  client_ip: string;
  started_at: number;
}

function config(echoPort: number): object {
  return {
    _format_version: '3.0',
    services: [{ name: 'echo', url: `http://127.0.0.1:${echoPort}`, routes: [{ name: 'logged', paths: ['/logged'] }] }],
    plugins: [{ name: 'file-log', route: 'logged', config: { path: '/dev/stdout' } }],
  };
}

describe('file-log to /dev/stdout (a pipe, as under a container runtime)', () => {
  let echo: EchoServer;
  let gw: Gateway;
  /** Every line the gateway wrote to stdout, and every stdout line that is not JSON. */
  const lines: Line[] = [];
  const torn: string[] = [];
  let partial = '';

  before(async () => {
    echo = await startEchoServer('stdout-up');
    gw = await startGateway({ config: config(echo.port) });
    gw.child.stdout?.on('data', (c: Buffer) => {
      const parts = (partial + c.toString()).split('\n');
      partial = parts.pop() as string;
      for (const p of parts) {
        try {
          const v = JSON.parse(p) as Line;
          if (v.request !== undefined) lines.push(v);
          else torn.push(p);
        } catch {
          torn.push(p);
        }
      }
    });
  });
  after(async () => {
    await gw?.stop();
    await echo?.close();
  });

  const logged = (prefix: string): Line[] => lines.filter((l) => l.request.uri.startsWith(prefix));

  it('N requests from both workers are N JSON lines of kong.log.serialize() on the gateway\'s stdout', async () => {
    const n = 40;
    await Promise.all(Array.from({ length: n }, async (_, i) => assert.equal((await request(`${gw.proxyUrl}/logged/a/${i}`)).status, 200)));
    await waitFor(`${n} access lines on stdout`, () => logged('/logged/a/').length >= n);
    const got = logged('/logged/a/');
    assert.equal(got.length, n);
    assert.deepEqual(new Set(got.map((l) => l.request.uri)), new Set(Array.from({ length: n }, (_, i) => `/logged/a/${i}`)));
    for (const l of got) {
      assert.equal(l.request.method, 'GET');
      assert.equal(l.response.status, 200);
      assert.equal(l.route?.name, 'logged');
      assert.equal(l.service?.name, 'echo');
      assert.equal(l.client_ip, '127.0.0.1');
      assert.equal(typeof l.latencies.proxy, 'number');
      assert.equal(typeof l.started_at, 'number');
    }
    assert.deepEqual(torn, []);
  });

  it('a reader that stops reading never blocks a worker: requests keep being answered, lines beyond the bound are dropped and counted, none is torn', async () => {
    const stdout = gw.child.stdout;
    assert.ok(stdout);
    const before = logged('/logged/b/').length;
    stdout.pause();
    // ~3 KB lines (the padded header is logged): far more than the pipe and the 2 MiB per-worker bound hold.
    const pad = 'p'.repeat(2500);
    const n = 2400;
    let ok = 0;
    try {
      for (let batch = 0; batch < n / 40; batch++) {
        const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => request(`${gw.proxyUrl}/logged/b/${batch * 40 + i}`, { headers: { 'x-pad': pad }, timeoutMs: 5000 })));
        ok += rs.filter((r) => r.status === 200).length;
      }
    } finally {
      stdout.resume();
    }
    assert.equal(ok, n, 'every request answered while stdout was not read');
    assert.equal(before, 0);
    await waitFor('the drop to be reported', () => /dropping access log lines/.test(gw.output()), { timeoutMs: 10000 });
    // What was buffered drains once the reader is back: whole lines only, fewer than sent.
    await waitFor('stdout to drain', async () => {
      const a = logged('/logged/b/').length;
      await new Promise((r) => setTimeout(r, 300));
      return a > 0 && logged('/logged/b/').length === a;
    }, { timeoutMs: 15000 });
    const got = logged('/logged/b/').length;
    assert.ok(got > 0 && got < n, `${got} of ${n} lines arrived`);
    assert.deepEqual(torn, [], 'no torn or interleaved line');
  });
});
