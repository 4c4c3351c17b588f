// WebSocket limits as settings, through the 2-worker gateway: websocket_max_message_size (1009
// to a client that sends more, 1011 when the upstream does), websocket_upstream_buffer_limit (1008
// when the upstream stops reading) and websocket_idle_timeout (a client that answers no ping is
// closed, one that answers stays). Each is set far below its default, so a limit that is not
// applied leaves the connection open and the test fails.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { listenLocal } from '../helpers/ports';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { waitFor } from '../helpers/wait';

const MAX = 64 * 1024;

interface Upstream {
  port: number;
  sockets: WebSocket[];
  /** Close codes the upstream saw, in order. */
  closes: number[];
  close(): Promise<void>;
}

/** Echoes every message; `big` makes it send one message over MAX. */
async function startUpstream(): Promise<Upstream> {
  const sockets: WebSocket[] = [];
  const closes: number[] = [];
  // The upstream itself takes any size: only the gateway's limit may refuse.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary && data.toString() === 'big') ws.send(Buffer.alloc(MAX + 1, 7));
      else ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code) => closes.push(code));
  });
  const server: Server = createServer((_req, res) => res.end());
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
  const port = await listenLocal(server);
  return {
    port, sockets, closes,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function open(url: string, opts: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024, ...opts });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

function nextMessage(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    ws.once('message', (d: Buffer) => resolve(d));
    ws.once('close', (code: number) => reject(new Error(`closed ${code}`)));
  });
}

describe('WebSocket limits from the settings', () => {
  let up: Upstream;
  let gw: Gateway;
  let url: string;
  const clients: WebSocket[] = [];
  const track = (ws: WebSocket): WebSocket => (clients.push(ws), ws);

  before(async () => {
    up = await startUpstream();
    gw = await startGateway({
      config: { _format_version: '3.0', services: [{ name: 'ws', url: `http://127.0.0.1:${up.port}`, routes: [{ name: 'r', paths: ['/'] }] }] },
      env: { HYPERWAY_WEBSOCKET_MAX_MESSAGE_SIZE: '64k', HYPERWAY_WEBSOCKET_UPSTREAM_BUFFER_LIMIT: '1m', HYPERWAY_WEBSOCKET_IDLE_TIMEOUT: '8s' },
    });
    url = gw.proxyUrl.replace('http:', 'ws:');
  });
  after(async () => {
    for (const c of clients) c.terminate();
    await gw?.stop();
    await up?.close();
  });

  it('websocket_max_message_size: a message of exactly the size passes; one byte more from the client is closed with 1009, the upstream with 1001', { timeout: 15000 }, async () => {
    const ws = track(await open(`${url}/max`));
    ws.send(Buffer.alloc(MAX, 1));
    assert.equal((await nextMessage(ws)).length, MAX);
    const before = up.closes.length;
    const gone = closed(ws);
    ws.send(Buffer.alloc(MAX + 1, 1));
    assert.deepEqual(await gone, { code: 1009, reason: 'message too big' });
    await waitFor('the upstream to see its close', () => up.closes.length > before);
    assert.equal(up.closes[up.closes.length - 1], 1001);
  });

  it('websocket_max_message_size: over twice the size, uWS 20.30 drops the client itself (no close frame: 1006)', { timeout: 15000 }, async () => {
    const ws = track(await open(`${url}/huge`));
    const gone = closed(ws);
    ws.send(Buffer.alloc(2 * MAX + 1, 1));
    assert.equal((await gone).code, 1006);
  });

  it('websocket_max_message_size: an upstream message over it closes the client with 1011 and the upstream with 1009', { timeout: 15000 }, async () => {
    const ws = track(await open(`${url}/big`));
    const before = up.closes.length;
    const gone = closed(ws);
    ws.send('big');
    assert.equal((await gone).code, 1011);
    await waitFor('the upstream to see its close', () => up.closes.length > before);
    assert.equal(up.closes[up.closes.length - 1], 1009);
  });

  it('websocket_upstream_buffer_limit: an upstream that stops reading gets the client closed with 1008 past the limit', { timeout: 30000 }, async () => {
    const ws = track(await open(`${url}/slow`));
    await waitFor('the upstream side', () => up.sockets.length > 0);
    up.sockets[up.sockets.length - 1].pause();
    const gone = closed(ws);
    // 16 MiB against a 1 MiB limit: past what loopback socket buffers hold, far below the 32 MiB default.
    const chunk = Buffer.alloc(60 * 1024, 1);
    for (let i = 0; i < 280; i++) ws.send(chunk);
    assert.deepEqual(await gone, { code: 1008, reason: 'upstream too slow' });
  });

  it('websocket_idle_timeout: a client that answers no ping is closed; one that answers stays open', { timeout: 40000 }, async () => {
    const silent = track(await open(`${url}/idle`, { autoPong: false }));
    const alive = track(await open(`${url}/alive`));
    let pinged = 0;
    silent.on('ping', () => pinged++);
    const gone = closed(silent);
    // 8 s with uWS's 4 s granularity; the default (120 s) would outlast the test's timeout.
    await waitFor('the silent client to be closed', () => silent.readyState === WebSocket.CLOSED, { timeoutMs: 30000 });
    await gone;
    assert.ok(pinged >= 1, 'uWS pinged it first');
    assert.equal(alive.readyState, WebSocket.OPEN, 'the client that answered pings is still open');
    alive.send('still');
    assert.equal((await nextMessage(alive)).toString(), 'still');
  });
});
