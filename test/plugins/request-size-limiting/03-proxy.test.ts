import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { KeepAliveClient } from '../../helpers/keep-alive-client';
import { useEchoGateway } from '../../helpers/echo-gateway';
import type { EchoRecord } from '../../helpers/upstream';
import { waitFor } from '../../helpers/wait';

const LIMIT = 1024;

function config(echoPort: number): object {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'echo',
        url: `http://127.0.0.1:${echoPort}`,
        routes: [
          { name: 'limited', paths: ['/limited'] },
          { name: 'strict', paths: ['/strict'] },
        ],
      },
    ],
    plugins: [
      { name: 'request-size-limiting', route: 'limited', config: { allowed_payload_size: 1, size_unit: 'kilobytes' } },
      { name: 'request-size-limiting', route: 'strict', config: { allowed_payload_size: 1, size_unit: 'kilobytes', require_content_length: true } },
    ],
  };
}

/** The message of a kong.response.error body (which also carries the request id). */
function message(body: Buffer | string): string {
  const parsed = JSON.parse(body.toString()) as { message: string; request_id: string };
  assert.match(parsed.request_id, /^[0-9a-f]{32}$/);
  return parsed.message;
}

function chunk(n: number): string {
  return `${n.toString(16)}\r\n${'b'.repeat(n)}\r\n`;
}

describe('request-size-limiting through the gateway', () => {
  const env = useEchoGateway('rsl-up', config);

  it('answers 413 to a declared Content-Length above the limit before the body is sent; the upstream sees nothing', async () => {
    const client = await KeepAliveClient.open(env.gw.proxyPort);
    try {
      // Only the head: the answer must not wait for the body.
      client.write(`POST /limited/big HTTP/1.1\r\nHost: env.gw.test\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`);
      const res = await client.nextResponse('the 413');
      assert.equal(res.status, 413);
      assert.equal(message(res.body), 'Request size limit exceeded');
    } finally {
      client.destroy();
    }
    assert.equal(env.echo.requests.length, 0);
  });

  it('answers 417 instead when the client expects 100-continue', async () => {
    const res = await request(`${env.gw.proxyUrl}/limited/big`, {
      method: 'POST',
      headers: { 'content-length': String(LIMIT + 1), expect: '100-continue' },
    }).catch((e: Error) => e);
    // node's client waits for 100-continue and never sends the body: the final answer arrives instead.
    assert.ok(!(res instanceof Error), String(res));
    assert.equal(res.status, 417);
    assert.equal(env.echo.requests.length, 0);
  });

  it('passes a body of exactly the limit, by Content-Length and chunked', async () => {
    const byLength = await request(`${env.gw.proxyUrl}/limited/exact`, { method: 'POST', body: 'a'.repeat(LIMIT) });
    assert.equal(byLength.status, 200, byLength.text);
    const client = await KeepAliveClient.open(env.gw.proxyPort);
    try {
      client.write(`POST /limited/exact-chunked HTTP/1.1\r\nHost: env.gw.test\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(512)}${chunk(512)}0\r\n\r\n`);
      const res = await client.nextResponse('the chunked answer');
      assert.equal(res.status, 200, res.body.toString());
    } finally {
      client.destroy();
    }
    const seen = env.echo.requests.filter((r) => r.url.startsWith('/exact'));
    assert.deepEqual(seen.map((r) => [r.url, r.body_length]), [['/exact', LIMIT], ['/exact-chunked', LIMIT]]);
  });

  it('answers 413 once a chunked upload passes the limit, before it ends; the connection then serves again or is closed cleanly', async () => {
    const before = env.echo.requests.length;
    const client = await KeepAliveClient.open(env.gw.proxyPort);
    try {
      // 1400 bytes sent, the upload not finished: the answer must come without the rest.
      client.write(`POST /limited/chunked-big HTTP/1.1\r\nHost: env.gw.test\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(700)}${chunk(700)}`);
      const res = await client.nextResponse('the 413');
      assert.equal(res.status, 413);
      assert.equal(message(res.body), 'Request size limit exceeded');
      if (client.closed === null && res.headers.connection?.toLowerCase() !== 'close') {
        // Kept alive: the rest of the rejected body is skipped, then the next request is served.
        client.write(`${chunk(700)}0\r\n\r\nGET /limited/next HTTP/1.1\r\nHost: env.gw.test\r\n\r\n`);
        const next = await client.nextResponse('the next response on the same connection');
        assert.equal(next.status, 200, next.body.toString());
        assert.equal((JSON.parse(next.body.toString()) as EchoRecord).url, '/next');
      } else {
        await waitFor('the connection to close', () => client.closed !== null);
        assert.equal(client.closed?.error, undefined, 'closed without a reset');
      }
    } finally {
      client.destroy();
    }
    assert.deepEqual(env.echo.requests.slice(before).map((r) => r.url).filter((u) => u !== '/next'), []);
  });

  it('require_content_length: 411 without a Content-Length; a declared length is checked as usual', async () => {
    const res = await request(`${env.gw.proxyUrl}/strict/x`);
    assert.equal(res.status, 411);
    assert.equal(message(res.text), 'A valid Content-Length header is required');
    const ok = await request(`${env.gw.proxyUrl}/strict/x`, { method: 'POST', body: 'small' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json<EchoRecord>().body_length, 5);
  });
});
