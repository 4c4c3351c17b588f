/**
 * A client that goes away mid-request: the gateway must abort the upstream request (the upstream
 * sees its connection closed), count the request as finished (requests_in_flight back to 0), and
 * not let it hold up a graceful drain.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-upstream';
import { waitFor } from '../helpers/wait';

/** requests_in_flight summed over the workers (the field is not in the helper's status type). */
async function inFlight(gw: Gateway): Promise<number> {
  const st = (await gw.status()) as unknown as { server: { requests_in_flight: number } };
  return st.server.requests_in_flight;
}

/** A GET on its own connection; resolves once the request is sent, with its eventual response. */
function startGet(url: string): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const req = httpRequest(url, { agent: false });
  req.on('error', () => undefined); // destroyed on purpose
  const response = new Promise<IncomingMessage>((resolve) => req.once('response', resolve));
  req.end();
  return { req, response };
}

/** Opens a raw connection and starts an upload of `announced` bytes, sending only `sent`. */
async function startPartialUpload(port: number, path: string, announced: number, sent: number): Promise<Socket> {
  const sock = connect({ port, host: '127.0.0.1' });
  sock.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.write(`POST ${path} HTTP/1.1\r\nHost: client.test\r\nContent-Type: application/octet-stream\r\nContent-Length: ${announced}\r\n\r\n`);
  sock.write(Buffer.alloc(sent, 0x62));
  return sock;
}

const HEAD_BYTES = 200; // an upstream request head is longer than this

describe('client disconnects mid-request', () => {
  let hold: ScriptedServer; // reads requests, never answers
  let trickle: ScriptedServer; // answers a head and a little of a long body, then nothing
  let gw: Gateway;

  before(async () => {
    hold = await startScriptedServer(() => undefined);
    trickle = await startScriptedServer((_req, sock) => {
      sock.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000000\r\n\r\n');
      sock.write(Buffer.alloc(4096, 0x61));
    });
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [
          { name: 'hold', url: `http://127.0.0.1:${hold.port}`, retries: 0, read_timeout: 60000, write_timeout: 60000, routes: [{ name: 'hold', paths: ['/hold'] }] },
          { name: 'trickle', url: `http://127.0.0.1:${trickle.port}`, retries: 0, read_timeout: 60000, routes: [{ name: 'trickle', paths: ['/trickle'] }] },
        ],
      },
    });
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([hold?.close(), trickle?.close()]);
  });

  it('before the response head: the upstream request is aborted and nothing stays in flight', async () => {
    const n = hold.heads();
    const { req } = startGet(`${gw.proxyUrl}/hold/slow`);
    const conn = await waitFor('the upstream to receive the request', () => hold.headLog[n]);
    assert.equal(await inFlight(gw), 1, 'the held request counts as in flight');
    req.destroy();
    await waitFor('the gateway to close the upstream connection', () => conn.closed);
    await waitFor('requests_in_flight to return to 0', async () => (await inFlight(gw)) === 0);
  });

  it('mid-body: the upstream response is aborted and nothing stays in flight', async () => {
    const n = trickle.heads();
    const { req, response } = startGet(`${gw.proxyUrl}/trickle/download`);
    const res = await response;
    assert.equal(res.statusCode, 200);
    await new Promise((resolve) => res.once('data', resolve));
    const conn = trickle.headLog[n];
    assert.ok(conn !== undefined, 'the upstream saw the request');
    assert.equal(conn.closed, false, 'the upstream connection is open while the body is pending');
    req.destroy();
    await waitFor('the gateway to close the upstream connection', () => conn.closed);
    await waitFor('requests_in_flight to return to 0', async () => (await inFlight(gw)) === 0);
  });

  it('during an upload: the upstream request is aborted and nothing stays in flight', async () => {
    const n = hold.heads();
    const sock = await startPartialUpload(gw.proxyPort, '/hold/upload', 10_000_000, 256 * 1024);
    const conn = await waitFor('the upstream to receive part of the body', () => {
      const c = hold.headLog[n];
      return c !== undefined && c.bytes > HEAD_BYTES + 64 * 1024 ? c : undefined;
    });
    assert.equal(await inFlight(gw), 1, 'the upload counts as in flight');
    sock.destroy();
    await waitFor('the gateway to close the upstream connection', () => conn.closed);
    await waitFor('requests_in_flight to return to 0', async () => (await inFlight(gw)) === 0);
    assert.ok(conn.bytes < 10_000_000, 'the upstream never got the whole announced body');
  });
});

describe('client disconnect, then SIGTERM', () => {
  let hold: ScriptedServer;
  let gw: Gateway;

  before(async () => {
    hold = await startScriptedServer(() => undefined);
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'hold', url: `http://127.0.0.1:${hold.port}`, retries: 0, read_timeout: 60000, routes: [{ name: 'hold', paths: ['/hold'] }] }],
      },
      // Long enough that a request wrongly left in flight shows as a drain that waits it out.
      env: { HYPERWAY_DRAIN_TIMEOUT: '20000' },
    });
  });

  after(async () => {
    await gw?.stop('SIGKILL');
    await hold?.close();
  });

  it('the drain is not held up by the aborted requests (a GET and an upload)', { timeout: 30000 }, async () => {
    const get = startGet(`${gw.proxyUrl}/hold/slow`);
    const upload = await startPartialUpload(gw.proxyPort, '/hold/upload', 10_000_000, 128 * 1024);
    await waitFor('the upstream to receive both requests', () => hold.heads() === 2);
    assert.equal(await inFlight(gw), 2);
    get.req.destroy();
    upload.destroy();
    // No wait for the count to settle: the signal follows the disconnects at once.
    const t0 = Date.now();
    const code = await gw.stop('SIGTERM', 25000);
    const took = Date.now() - t0;
    assert.equal(code, 0, gw.output());
    assert.ok(took < 5000, `drain took ${took} ms; drain_timeout is 20000 ms, so an aborted request was still counted`);
    await waitFor('every upstream connection to be closed', () => hold.conns.every((c) => c.closed));
  });
});
