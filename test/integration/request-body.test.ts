/**
 * Request bodies a client sends chunked (Transfer-Encoding: chunked, no Content-Length): the
 * gateway forwards them upstream byte for byte, and the client's connection stays usable.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { KeepAliveClient } from '../helpers/keep-alive-client';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { okJson, patternBytes, sha256, startScriptedServer, type ScriptedRequest, type ScriptedServer } from '../helpers/scripted-upstream';

interface Seen {
  length: number;
  sha: string;
  te: string | null;
  cl: string | null;
}

/** `body` in chunked framing, cut into pieces of the given sizes (cycled). */
function chunkedFraming(body: Buffer, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  for (let i = 0; off < body.length; i++) {
    const n = Math.min(sizes[i % sizes.length] as number, body.length - off);
    parts.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(off, off + n), Buffer.from('\r\n'));
    off += n;
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

describe('chunked request bodies', () => {
  let up: ScriptedServer;
  let gw: Gateway;

  before(async () => {
    up = await startScriptedServer((req: ScriptedRequest, sock) =>
      okJson(sock, {
        length: req.body.length,
        sha: sha256(req.body),
        te: req.headers['transfer-encoding'] ?? null,
        cl: req.headers['content-length'] ?? null,
      } satisfies Seen),
    );
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'up', url: `http://127.0.0.1:${up.port}`, routes: [{ name: 'up', paths: ['/up'] }] }],
      },
    });
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  function assertForwarded(seen: Seen, body: Buffer): void {
    assert.equal(seen.length, body.length, 'body length at the upstream');
    assert.equal(seen.sha, sha256(body), 'body bytes at the upstream');
    // One framing only: a request with both is the raw material of request smuggling.
    assert.ok((seen.te === null) !== (seen.cl === null), `upstream framing: transfer-encoding ${seen.te}, content-length ${seen.cl}`);
  }

  it('forwards a chunked body from a raw socket intact, and the connection serves the next request', async () => {
    const client = await KeepAliveClient.open(gw.proxyPort);
    try {
      // ASCII only: KeepAliveClient writes strings, which the socket encodes as UTF-8.
      const body = Buffer.from(patternBytes(300 * 1024, 11).toString('base64').slice(0, 300 * 1024 + 17), 'latin1');
      client.write(
        'POST /up/raw HTTP/1.1\r\nHost: client.test\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n' +
          chunkedFraming(body, [1, 4096, 65536, 3, 100_000]).toString('latin1'),
      );
      const res = await client.nextResponse('the response to the chunked POST');
      assert.equal(res.status, 200, res.body.toString());
      assertForwarded(JSON.parse(res.body.toString()) as Seen, body);

      client.write('GET /up/next HTTP/1.1\r\nHost: client.test\r\n\r\n');
      const next = await client.nextResponse('the next response on the same connection');
      assert.equal(next.status, 200);
      assert.equal((JSON.parse(next.body.toString()) as Seen).length, 0);
      assert.equal(up.requests.at(-1)?.url, '/next');
    } finally {
      client.destroy();
    }
  });

  it('forwards an empty chunked body', async () => {
    const client = await KeepAliveClient.open(gw.proxyPort);
    try {
      client.write('POST /up/empty HTTP/1.1\r\nHost: client.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
      const res = await client.nextResponse('the response to the empty chunked POST');
      assert.equal(res.status, 200, res.body.toString());
      const seen = JSON.parse(res.body.toString()) as Seen;
      assert.equal(seen.length, 0);
      assert.equal(up.requests.at(-1)?.url, '/empty');
    } finally {
      client.destroy();
    }
  });

  it('forwards a streamed body that node sends chunked (no Content-Length), 2 MiB in uneven writes', async () => {
    const body = patternBytes(2 * 1024 * 1024 + 5, 23);
    const seen = await new Promise<{ status: number; seen: Seen }>((resolve, reject) => {
      const req = httpRequest(`${gw.proxyUrl}/up/streamed`, { method: 'PUT', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, seen: JSON.parse(Buffer.concat(chunks).toString()) as Seen }));
        res.on('error', reject);
      });
      req.on('error', reject);
      let off = 0;
      let i = 0;
      const pump = (): void => {
        while (off < body.length) {
          const n = Math.min([7, 70_000, 1, 250_000][i++ % 4] as number, body.length - off);
          const ok = req.write(body.subarray(off, off + n));
          off += n;
          if (!ok) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    assert.equal(seen.status, 200);
    assertForwarded(seen.seen, body);
  });
});
