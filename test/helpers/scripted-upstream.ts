import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { dechunk, headerFields } from './raw-http';
import { startRawServer } from './raw-server';

/** One upstream connection as the upstream saw it. */
export interface ConnRecord {
  /** Bytes received on it so far. */
  bytes: number;
  /** Request heads parsed on it (a request counts from its head, even if its body never completes). */
  heads: number;
  /** The peer (the gateway) closed or reset it. */
  closed: boolean;
}

/** A request whose head and whole body arrived. */
export interface ScriptedRequest {
  method: string;
  url: string;
  /** Names lowercased; repeats joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
  /** The body came with Transfer-Encoding: chunked. */
  chunked: boolean;
}

export interface ScriptedServer {
  port: number;
  conns: ConnRecord[];
  /** Request heads seen on any connection: the number of tries that reached this upstream. */
  heads(): number;
  /**
   * The connection of each request head, in arrival order: `headLog[n]` carried the n-th request.
   * (A pooled upstream connection may be opened well before a request uses it.)
   */
  headLog: ConnRecord[];
  /** Complete requests, in arrival order. */
  requests: ScriptedRequest[];
  /** Times a connection stopped reading (the `stall` option). */
  stalls(): number;
  close(): Promise<void>;
}

/** Once a request has brought `afterBytes` (its head included), the connection stops reading for `ms` (the sender's buffers fill), then reads on: once per request. */
export interface StallOption {
  afterBytes: number;
  ms: number;
}

/**
 * A raw TCP upstream that parses requests itself (Content-Length or chunked bodies) and leaves
 * the answer to `answer`, which may write anything (a valid response, garbage, a short body),
 * reset, or never answer. It records per connection what arrived and whether the gateway closed
 * it, which is how a test sees an aborted upstream request.
 */
export async function startScriptedServer(
  answer: (req: ScriptedRequest, sock: Socket) => void,
  stall: StallOption | null = null,
): Promise<ScriptedServer> {
  let stalls = 0;
  const conns: ConnRecord[] = [];
  const requests: ScriptedRequest[] = [];
  const headLog: ConnRecord[] = [];
  const server = await startRawServer((sock) => {
    const conn: ConnRecord = { bytes: 0, heads: 0, closed: false };
    conns.push(conn);
    let buf = Buffer.alloc(0);
    let headCounted = false;
    sock.on('close', () => (conn.closed = true));
    let stalled = false;
    /** Bytes of the request under way (what is buffered of it). */
    let requestBytes = 0;
    sock.on('data', (c: Buffer) => {
      conn.bytes += c.length;
      requestBytes += c.length;
      if (stall !== null && !stalled && requestBytes >= stall.afterBytes) {
        stalled = true;
        stalls++;
        sock.pause();
        setTimeout(() => sock.resume(), stall.ms);
      }
      buf = Buffer.concat([buf, c]);
      for (;;) {
        if (!headCounted && buf.indexOf('\r\n\r\n') >= 0) {
          headCounted = true;
          conn.heads++;
          headLog.push(conn);
        }
        const parsed = parseRequest(buf);
        if (parsed === null) return;
        buf = buf.subarray(parsed.consumed);
        headCounted = false;
        stalled = false;
        requestBytes = buf.length;
        requests.push(parsed.req);
        answer(parsed.req, sock);
      }
    });
  });
  return {
    port: server.port,
    conns,
    heads: () => headLog.length,
    headLog,
    requests,
    stalls: () => stalls,
    close: server.close,
  };
}

function parseRequest(buf: Buffer): { req: ScriptedRequest; consumed: number } | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const [method = '', url = ''] = (lines[0] ?? '').split(' ');
  const headers = headerFields(lines.slice(1));
  const rest = buf.subarray(headEnd + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const d = dechunk(rest);
    if (!d.complete) return null;
    return { req: { method, url, headers, body: d.body, chunked: true }, consumed: headEnd + 4 + d.consumed };
  }
  const length = Number(headers['content-length'] ?? 0);
  if (rest.length < length) return null;
  return { req: { method, url, headers, body: Buffer.from(rest.subarray(0, length)), chunked: false }, consumed: headEnd + 4 + length };
}

/** A 200 with a JSON body and Content-Length, kept alive. */
export function okJson(sock: Socket, body: object): void {
  const text = JSON.stringify(body);
  sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

/** `n` bytes that differ from any shifted or truncated copy of themselves (so a lost or repeated chunk shows). */
export function patternBytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    // xorshift32: cheap, deterministic, no short period.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
