/**
 * WebSocket proxying through the real gateway (2 workers): a real `ws` upstream on loopback and
 * a real `ws` client. The handshake (subprotocol, upstream headers, refusals, connect failures,
 * key-auth), frames both ways (text, binary, 1 MiB), close codes both ways, pings, an upstream
 * that dies, a reload under an open socket, and the 1001 of a graceful shutdown.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:https';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { stringify } from 'yaml';
import { request } from '../helpers/http-client';
import { closedPort, listenLocal } from '../helpers/ports';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { waitFor } from '../helpers/wait';

const TLS = resolve(__dirname, '../../../test/fixtures/tls');
const ALICE = '5c1e2b3c-0a1b-4c2d-8e3f-000000000001';

interface Upstream {
  port: number;
  /** Handshake headers of every WebSocket the upstream accepted, in order. */
  handshakes: IncomingHttpHeaders[];
  /** Close code and reason the upstream received, by connection (its index in `sockets`). */
  closes: Map<number, { code: number; reason: string }>;
  /** Pong payloads the upstream received. */
  pongs: string[];
  /** The upstream's side of every WebSocket, in order (tests drive it directly). */
  sockets: WebSocket[];
  close(): Promise<void>;
}

/**
 * The upstream: `GET /plain` answers 200 `plain`; an upgrade to `/refuse` gets 403 with a body;
 * any other upgrade is accepted (subprotocol `chat.v2` when offered) and echoes each message as
 * it came, except the commands `close <code> <reason>`, `ping <payload>` and `die`.
 */
async function startUpstream(): Promise<Upstream> {
  const handshakes: IncomingHttpHeaders[] = [];
  const closes = new Map<number, { code: number; reason: string }>();
  const pongs: string[] = [];
  const sockets: WebSocket[] = [];
  const held = new Set<Duplex>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false),
  });
  wss.on('headers', (head: string[]) => head.push('X-Upstream-Head: 101'));
  wss.on('connection', (ws, req: IncomingMessage) => {
    handshakes.push(req.headers);
    const index = sockets.push(ws) - 1;
    ws.on('message', (data: Buffer, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (text.startsWith('close ')) {
        const [, code, ...reason] = text.split(' ');
        ws.close(Number(code), reason.join(' '));
      } else if (text.startsWith('ping ')) {
        ws.ping(text.slice(5));
      } else if (text === 'die') {
        ws.terminate();
      } else {
        ws.send(data, { binary: isBinary });
      }
    });
    ws.on('pong', (d: Buffer) => pongs.push(d.toString()));
    ws.on('close', (code, reason) => closes.set(index, { code, reason: reason.toString() }));
  });
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(req.url === '/plain' ? 'plain' : `http ${req.url}`);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.startsWith('/hang')) {
      held.add(socket); // never answered
      return;
    }
    if (req.url === '/refuse') {
      const body = 'no websockets here';
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nX-Refused: yes\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const port = await listenLocal(server);
  return {
    port,
    handshakes,
    closes,
    pongs,
    sockets,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      for (const s of held) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A wss upstream (the fixture's self-signed certificate) that echoes and says it was TLS. */
async function startTlsUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createTlsServer({ key: readFileSync(`${TLS}/self-signed.key`), cert: readFileSync(`${TLS}/self-signed.crt`) });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
    ws.on('message', (data: Buffer, isBinary) => ws.send(isBinary ? data : `${tls ? 'tls' : 'plain'}: ${data.toString()}`, { binary: isBinary }));
  });
  const port = await listenLocal(server);
  return {
    port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function config(upPort: number, downPort: number, tlsPort: number, extraRoute = false): object {
  return {
    _format_version: '3.0',
    upstreams: [{ name: 'half-down', targets: [{ target: `127.0.0.1:${downPort}` }, { target: `127.0.0.1:${upPort}` }] }],
    consumers: [{ id: ALICE, username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] }],
    services: [
      {
        name: 'ws-up',
        url: `http://127.0.0.1:${upPort}`,
        routes: [
          { name: 'http-route', paths: ['/h'] },
          { name: 'ws-route', protocols: ['ws'], paths: ['/w'], plugins: [{ name: 'correlation-id', config: { echo_downstream: true } }] },
          { name: 'auth-route', paths: ['/auth'], plugins: [{ name: 'key-auth' }] },
          ...(extraRoute ? [{ name: 'late-route', paths: ['/late'] }] : []),
        ],
      },
      { name: 'down', url: `http://127.0.0.1:${downPort}`, connect_timeout: 2000, retries: 1, routes: [{ name: 'down-route', paths: ['/down'] }] },
      { name: 'slow', url: `http://127.0.0.1:${upPort}/hang`, read_timeout: 300, retries: 0, routes: [{ name: 'slow-route', paths: ['/slow'] }] },
      { name: 'retry', host: 'half-down', routes: [{ name: 'retry-route', paths: ['/retry'] }] },
      { name: 'tls-up', url: `https://127.0.0.1:${tlsPort}`, routes: [{ name: 'tls-route', paths: ['/tls'] }] },
    ],
  };
}

interface Refusal {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Opens a client through the gateway: the open socket, or the HTTP answer that refused it. */
function connect(url: string, protocols: string[] = [], headers: Record<string, string> = {}): Promise<WebSocket | Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.once('error', reject);
  });
}

async function open(url: string, protocols: string[] = [], headers: Record<string, string> = {}): Promise<WebSocket> {
  const r = await connect(url, protocols, headers);
  if (!(r instanceof WebSocket)) assert.fail(`expected an upgrade, got ${r.status} ${r.body}`);
  return r;
}

async function refused(url: string, headers: Record<string, string> = {}): Promise<Refusal> {
  const r = await connect(url, [], headers);
  if (r instanceof WebSocket) {
    r.terminate();
    assert.fail('expected the upgrade to be refused');
  }
  return r;
}

/** The next message on `ws`, with its type. */
function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve, reject) => {
    const onClose = (code: number): void => reject(new Error(`closed (${code}) before a message`));
    ws.once('close', onClose);
    ws.once('message', (data: Buffer, binary: boolean) => {
      ws.off('close', onClose);
      resolve({ data, binary });
    });
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

describe('WebSocket proxying', () => {
  let up: Upstream;
  let tlsUp: { port: number; close(): Promise<void> };
  let gw: Gateway;
  let wsUrl: string;
  let downPort: number;
  const clients: WebSocket[] = [];

  const track = (ws: WebSocket): WebSocket => {
    clients.push(ws);
    return ws;
  };

  before(async () => {
    up = await startUpstream();
    tlsUp = await startTlsUpstream();
    downPort = await closedPort();
    gw = await startGateway({ config: config(up.port, downPort, tlsUp.port) });
    wsUrl = gw.proxyUrl.replace('http:', 'ws:');
  });

  after(async () => {
    for (const c of clients) c.terminate();
    await gw?.stop();
    await up?.close();
    await tlsUp?.close();
  });

  it('echoes text and binary frames as they were sent, a 1 MiB binary message included, without extensions', { timeout: 20000 }, async () => {
    const ws = track(await open(`${wsUrl}/h/echo`));
    assert.equal(ws.extensions, '', 'no permessage-deflate negotiated');
    ws.send('hello');
    const text = await nextMessage(ws);
    assert.equal(text.binary, false);
    assert.equal(text.data.toString(), 'hello');
    const small = Buffer.from([0, 1, 2, 255]);
    ws.send(small);
    const bin = await nextMessage(ws);
    assert.equal(bin.binary, true);
    assert.deepEqual(bin.data, small);
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    ws.send(big);
    const echoed = await nextMessage(ws);
    assert.equal(echoed.binary, true);
    assert.equal(echoed.data.length, big.length);
    assert.ok(echoed.data.equals(big), '1 MiB message intact');
    ws.close(1000);
    await closed(ws);
  });

  it('passes the subprotocol and the upstream headers; the upstream chooses', async () => {
    const before = up.handshakes.length;
    const ws = track(await open(`${wsUrl}/h/echo`, ['chat.v1', 'chat.v2']));
    assert.equal(ws.protocol, 'chat.v2');
    const seen = up.handshakes[before];
    assert.equal(seen['sec-websocket-protocol'], 'chat.v1,chat.v2');
    assert.equal(seen.host, `127.0.0.1:${up.port}`, 'preserve_host off: the target host');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-real-ip'], '127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-path'], '/h/echo');
    assert.match(String(seen.via), /kong/);
    assert.equal(seen['sec-websocket-extensions'], undefined, 'no extension offered upstream');
    ws.close();
    await closed(ws);
  });

  it("the client's 101 carries the upstream's headers, Kong's, and the plugins' header filters", { timeout: 10000 }, async () => {
    const before = up.handshakes.length;
    const ws = track(new WebSocket(`${wsUrl}/w/echo`));
    const opened = new Promise((r) => ws.once('open', r));
    const head = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      ws.once('upgrade', (res: IncomingMessage) => resolve(res.headers));
      ws.once('error', reject);
    });
    await opened;
    assert.equal(head['x-upstream-head'], '101');
    assert.match(String(head.via), /kong/);
    assert.ok(head['x-kong-upstream-latency'] !== undefined, 'latency header');
    const id = up.handshakes[before]['kong-request-id'];
    assert.ok(typeof id === 'string' && id !== '', 'correlation-id sent upstream');
    assert.equal(head['kong-request-id'], id, 'and echoed on the 101');
    ws.close();
    await closed(ws);
  });

  it('a ws route takes handshakes only; an http route still proxies plain requests', { timeout: 10000 }, async () => {
    const ws = track(await open(`${wsUrl}/w/echo`));
    ws.send('via ws route');
    assert.equal((await nextMessage(ws)).data.toString(), 'via ws route');
    ws.close();
    const plain = await request(`${gw.proxyUrl}/h/plain`);
    assert.equal(plain.status, 200);
    assert.equal(plain.text, 'plain');
    // A Sec-WebSocket-Key alone (no Upgrade) is no handshake: proxied as a plain request.
    const keyOnly = await request(`${gw.proxyUrl}/h/plain`, { headers: { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } });
    assert.equal(keyOnly.status, 200);
    assert.equal(keyOnly.text, 'plain');
    const onWsRoute = await request(`${gw.proxyUrl}/w/plain`);
    assert.equal(onWsRoute.status, 404);
    const unknown = await refused(`${wsUrl}/nowhere`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body, /no Route matched with those values/);
  });

  it('reaches an https service over wss', async () => {
    const ws = track(await open(`${wsUrl}/tls/x`));
    ws.send('secret');
    assert.equal((await nextMessage(ws)).data.toString(), 'tls: secret');
    ws.close();
    await closed(ws);
  });

  it('relays close codes and reasons both ways', async () => {
    const a = track(await open(`${wsUrl}/h/echo`));
    const index = up.sockets.length - 1;
    a.close(4001, 'client bye');
    await closed(a);
    assert.deepEqual(await waitFor('the upstream to see the close', () => up.closes.get(index)), { code: 4001, reason: 'client bye' });

    const b = track(await open(`${wsUrl}/h/echo`));
    const gone = closed(b);
    b.send('close 4002 server bye');
    assert.deepEqual(await gone, { code: 4002, reason: 'server bye' });
  });

  it('relays the upstream pings to the client and the pongs back; answers the client pings', async () => {
    const ws = track(await open(`${wsUrl}/h/echo`));
    const pongsBefore = up.pongs.length;
    ws.send('ping p-42');
    await waitFor('the upstream to get the client pong', () => up.pongs.length > pongsBefore);
    assert.deepEqual(up.pongs.slice(pongsBefore), ['p-42']);
    const pong = new Promise<string>((r) => ws.once('pong', (d: Buffer) => r(d.toString())));
    ws.ping('c-7');
    assert.equal(await pong, 'c-7');
    ws.close();
    await closed(ws);
  });

  it('closes the client with 1011 when the upstream connection dies', async () => {
    const ws = track(await open(`${wsUrl}/h/echo`));
    const gone = closed(ws);
    ws.send('die');
    assert.equal((await gone).code, 1011);
  });

  it('relays an upstream refusal: its status, headers and body, no upgrade', async () => {
    const r = await refused(`${wsUrl}/h/refuse`);
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-refused'], 'yes');
    assert.equal(r.body, 'no websockets here');
  });

  it('answers 502 before any upgrade when the upstream cannot be reached', { timeout: 10000 }, async () => {
    const r = await refused(`${wsUrl}/down/x`);
    assert.equal(r.status, 502);
    assert.match(r.body, /An invalid response was received from the upstream server/);
  });

  it('answers 504 when the upstream does not answer the handshake within read_timeout', { timeout: 10000 }, async () => {
    const r = await refused(`${wsUrl}/slow`);
    assert.equal(r.status, 504);
    assert.match(r.body, /The upstream server is timing out/);
  });

  it('retries a refused connect on the next target', async () => {
    // Round-robin over a closed and an open target: without retries some handshakes get 502.
    for (let i = 0; i < 6; i++) {
      const ws = track(await open(`${wsUrl}/retry/echo`));
      ws.send(`try ${i}`);
      assert.equal((await nextMessage(ws)).data.toString(), `try ${i}`);
      ws.close();
      await closed(ws);
    }
  });

  it('counts open WebSockets as requests in flight until they close', async () => {
    const sockets = [track(await open(`${wsUrl}/h/echo`)), track(await open(`${wsUrl}/w/echo`)), track(await open(`${wsUrl}/h/echo`))];
    const inFlight = async (): Promise<number> => ((await gw.status()).server as { requests_in_flight?: number }).requests_in_flight ?? -1;
    assert.equal(await inFlight(), 3);
    for (const ws of sockets) ws.close();
    await Promise.all(sockets.map(closed));
    await waitFor('nothing in flight', async () => (await inFlight()) === 0);
  });

  it('upstream → client backpressure: a client that stops reading stops the gateway reading the upstream', { timeout: 60000 }, async () => {
    const ws = track(await open(`${wsUrl}/h/echo`));
    const server = up.sockets[up.sockets.length - 1];
    const count = 1024;
    const size = 64 * 1024;
    const received: number[] = [];
    ws.on('message', (d: Buffer) => received.push(d.length === size ? d.readUInt32BE(0) : -1));
    ws.pause();
    for (let i = 0; i < count; i++) {
      const m = Buffer.alloc(size, i & 0xff);
      m.writeUInt32BE(i, 0);
      server.send(m);
    }
    // 64 MiB sent; only socket buffers and uWS's bounded backlog lie between: the rest waits upstream.
    await waitFor('the upstream to stop draining', async () => {
      const before = server.bufferedAmount;
      await new Promise((r) => setTimeout(r, 200));
      return server.bufferedAmount === before && before > 16 * 1024 * 1024;
    }, { timeoutMs: 20000 });
    ws.resume();
    await waitFor('every message', () => received.length === count, { timeoutMs: 40000 });
    assert.deepEqual(received, Array.from({ length: count }, (_, i) => i), 'all messages, in order');
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
    await closed(ws);
  });

  it('client → upstream: an upstream that stops reading gets the client closed with 1008 past the buffer limit', { timeout: 30000 }, async () => {
    const ws = track(await open(`${wsUrl}/h/echo`));
    const server = up.sockets[up.sockets.length - 1];
    server.pause();
    const gone = closed(ws);
    const chunk = Buffer.alloc(1024 * 1024, 1);
    // 48 MiB against a 32 MiB limit (plus what socket buffers hold).
    for (let i = 0; i < 48; i++) ws.send(chunk);
    assert.deepEqual(await gone, { code: 1008, reason: 'upstream too slow' });
  });

  it('runs key-auth on the handshake: 401 without a key, the upgrade with one', async () => {
    const denied = await refused(`${wsUrl}/auth/echo`);
    assert.equal(denied.status, 401);
    assert.match(denied.body, /No API key found in request/);
    const before = up.handshakes.length;
    const ws = track(await open(`${wsUrl}/auth/echo`, [], { apikey: 'alice-key' }));
    assert.equal(up.handshakes[before]['x-consumer-username'], 'alice');
    ws.send('authenticated');
    assert.equal((await nextMessage(ws)).data.toString(), 'authenticated');
    ws.close();
    await closed(ws);
  });

  it('keeps an open WebSocket working across a reload', { timeout: 30000 }, async () => {
    const ws = track(await open(`${wsUrl}/h/echo`));
    ws.send('before');
    assert.equal((await nextMessage(ws)).data.toString(), 'before');
    const version = (await gw.status()).config_version;
    writeFileSync(gw.configPath, stringify(config(up.port, downPort, tlsUp.port, true)));
    gw.child.kill('SIGHUP');
    await waitFor('both workers on the new config', async () => (await gw.status()).workers.every((w) => w.config_version === version + 1), { timeoutMs: 10000 });
    assert.equal((await request(`${gw.proxyUrl}/late/plain`)).status, 200, 'the new config is served');
    ws.send('after');
    assert.equal((await nextMessage(ws)).data.toString(), 'after');
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
    await closed(ws);
  });

  it('closes open WebSockets with 1001 on graceful shutdown', { timeout: 30000 }, async () => {
    const ws = track(await open(`${wsUrl}/h/echo`));
    ws.send('still here');
    await nextMessage(ws);
    const gone = closed(ws);
    const index = up.sockets.length - 1;
    const exit = gw.stop('SIGTERM');
    assert.deepEqual(await gone, { code: 1001, reason: 'going away' });
    assert.deepEqual(await waitFor('the upstream to see the close', () => up.closes.get(index)), { code: 1001, reason: 'going away' });
    assert.equal(await exit, 0);
  });
});
