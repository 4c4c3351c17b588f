import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { KeepAliveClient } from '../../helpers/keep-alive-client';
import { useEchoGateway } from '../../helpers/echo-gateway';
import type { EchoRecord } from '../../helpers/upstream';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function config(echoPort: number): object {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'echo',
        url: `http://127.0.0.1:${echoPort}`,
        routes: [
          { name: 'echoed', paths: ['/echoed'] },
          { name: 'quiet', paths: ['/quiet'] },
          { name: 'counter', paths: ['/counter'] },
        ],
      },
    ],
    plugins: [
      { name: 'correlation-id', route: 'echoed', config: { header_name: 'X-Correlation-ID', generator: 'uuid', echo_downstream: true } },
      { name: 'correlation-id', route: 'quiet', config: { header_name: 'X-Correlation-ID', generator: 'uuid' } },
      { name: 'correlation-id', route: 'counter', config: { header_name: 'X-Req-Counter', generator: 'uuid#counter', echo_downstream: true } },
    ],
  };
}

describe('correlation-id through the gateway', () => {
  const env = useEchoGateway('cid-up', config);

  it('generates a uuid that the upstream receives and the client gets back (echo_downstream)', async () => {
    const res = await request(`${env.gw.proxyUrl}/echoed/a`);
    assert.equal(res.status, 200, res.text);
    const sent = res.json<EchoRecord>().headers['x-correlation-id'];
    assert.match(String(sent), UUID);
    assert.equal(res.headers['x-correlation-id'], sent);
    const other = await request(`${env.gw.proxyUrl}/echoed/b`);
    assert.notEqual(other.headers['x-correlation-id'], sent, 'a fresh id per request');
  });

  it('keeps an incoming id, upstream and downstream', async () => {
    const res = await request(`${env.gw.proxyUrl}/echoed/a`, { headers: { 'x-correlation-id': 'client-chosen-42' } });
    assert.equal(res.json<EchoRecord>().headers['x-correlation-id'], 'client-chosen-42');
    assert.equal(res.headers['x-correlation-id'], 'client-chosen-42');
  });

  it('sends the id upstream only without echo_downstream', async () => {
    const res = await request(`${env.gw.proxyUrl}/quiet/a`);
    assert.match(String(res.json<EchoRecord>().headers['x-correlation-id']), UUID);
    assert.equal(res.headers['x-correlation-id'], undefined);
  });

  it('uuid#counter: one worker uuid, a counter that increments by one per request', async () => {
    // One keep-alive connection stays on one worker, whose counter the requests share.
    const client = await KeepAliveClient.open(env.gw.proxyPort);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        client.write(`GET /counter/${i} HTTP/1.1\r\nHost: env.gw.test\r\n\r\n`);
        const res = await client.nextResponse(`response ${i}`);
        assert.equal(res.status, 200);
        const up = JSON.parse(res.body.toString()) as EchoRecord;
        assert.equal(up.headers['x-req-counter'], res.headers['x-req-counter']);
        ids.push(res.headers['x-req-counter'] ?? '');
      }
      const parsed = ids.map((id) => /^([0-9a-f-]{36})#(\d+)$/.exec(id));
      assert.ok(parsed.every((m) => m !== null), ids.join(' '));
      assert.ok(parsed.every((m) => m![1] === parsed[0]![1] && UUID.test(m![1])), ids.join(' '));
      const n = parsed.map((m) => Number(m![2]));
      assert.deepEqual(n, [n[0], n[0] + 1, n[0] + 2], ids.join(' '));
    } finally {
      client.destroy();
    }
  });
});
