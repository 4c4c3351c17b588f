/**
 * The bare prototype (issue 21, goal 1): uWS in front of one undici Pool, one process, nothing
 * else. No routing, no Kong headers, no counters, no timeouts of its own: the least a uWS + undici
 * proxy can do per request, and so the CPU per request Hyperway's worker is compared with.
 * It still does what any honest proxy must: forwards method, path, query and the client's
 * end-to-end headers; streams the request body to the upstream with backpressure (uWS pause /
 * resume); streams the response back with backpressure (tryEnd toward a known length or chunked
 * writes, onWritable to resume, undici paused meanwhile); cuts the client when the upstream fails.
 *
 * uWS is loaded exactly as the worker loads it (src/worker/server/uws.ts), so both rows run the
 * same binary. Usage: node dist/bench/bare/server.js <listen port> <upstream origin>; prints one
 * JSON line {"port", "uws"} once listening.
 */
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { loadUws, type HttpRequest, type HttpResponse } from '../../src/worker/server/uws';

/** Hop-by-hop request headers (RFC 9110 §7.6.1) and the framing undici sets itself. */
const DROP_REQUEST = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer']);
/** Response headers uWS writes itself (framing, Date) or that are hop-by-hop. */
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date', 'trailer', 'upgrade']);
const CUT = new Error('client aborted');
const EMPTY = Buffer.alloc(0);

// res.cork() runs its callback synchronously: module-level trampolines instead of a closure per write.
let corkEx: Exchange;
let corkChunk: Buffer;
let corkOk = true;
function corkedData(): void {
  if (!corkEx.headSent) corkEx.writeHead();
  corkOk = corkEx.send(corkChunk);
}
function corkedEnd(): void {
  if (!corkEx.headSent) corkEx.writeHead();
  corkEx.done = true;
  if (corkEx.length > 0) corkEx.res.tryEnd(EMPTY, corkEx.length); // cut short: nothing better to say
  else corkEx.res.end();
}
function corkedBadGateway(): void {
  corkEx.res.writeStatus('502 Bad Gateway').end('bad gateway\n');
}

/** The request body from uWS's onData to undici, pausing the client while undici does not read. */
class BodyStream extends Readable {
  paused = false;
  constructor(private readonly res: HttpResponse) {
    super({ highWaterMark: 64 * 1024 });
  }
  override _read(): void {
    if (this.paused) {
      this.paused = false;
      this.res.resume();
    }
  }
}

/** One proxied request; it is also its own undici handler (core interface: one object, no closures). */
class Exchange implements Dispatcher.DispatchHandler {
  aborted = false;
  done = false;
  headSent = false;
  status = 200;
  headers: Buffer[] = [];
  length = -1;
  body: BodyStream | null = null;
  abort: ((err: Error) => void) | null = null;
  resumeUpstream: (() => void) | null = null;
  /** A known-length chunk uWS did not take in full, and the write offset it started at. */
  pending: Buffer | null = null;
  pendingBase = 0;

  constructor(readonly res: HttpResponse) {}

  onAbortedClient(): void {
    this.aborted = true;
    this.body?.destroy();
    this.abort?.(CUT);
  }

  onBodyData(chunk: ArrayBuffer, isLast: boolean): void {
    const body = this.body as BodyStream;
    // uWS neuters the ArrayBuffer when onData returns: copy.
    if (chunk.byteLength > 0 && !body.push(Buffer.copyBytesFrom(new Uint8Array(chunk))) && !isLast) {
      body.paused = true;
      this.res.pause();
    }
    if (isLast) body.push(null);
  }

  onConnect(abort: (err: Error) => void): void {
    this.abort = abort;
    if (this.aborted) abort(CUT);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    this.status = statusCode;
    this.headers = rawHeaders;
    this.resumeUpstream = resume;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i];
      if (name.length === 14 && name.toString('latin1').toLowerCase() === 'content-length') this.length = Number(rawHeaders[i + 1].toString('latin1'));
    }
    return true;
  }

  writeHead(): void {
    const res = this.res;
    this.headSent = true;
    res.writeStatus(String(this.status));
    const h = this.headers;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i].toString('latin1').toLowerCase();
      if (!DROP_RESPONSE.has(name)) res.writeHeader(name, h[i + 1]);
    }
  }

  onData(chunk: Buffer): boolean {
    if (this.aborted) return false;
    corkEx = this;
    corkChunk = chunk;
    this.res.cork(corkedData);
    return corkOk;
  }

  /** MUST run corked. False when uWS kept bytes back: undici pauses until onWritable. */
  send(chunk: Buffer): boolean {
    const res = this.res;
    if (this.length >= 0) {
      const base = res.getWriteOffset();
      const [ok, done] = res.tryEnd(chunk, this.length);
      if (done) this.done = true;
      if (ok || done) return true;
      // undici may reuse the chunk's memory once onData returns.
      this.pending = Buffer.from(chunk);
      this.pendingBase = base;
    } else if (res.write(chunk)) {
      return true;
    }
    res.onWritable((offset) => this.onWritable(offset));
    return false;
  }

  onWritable(offset: number): boolean {
    if (this.pending !== null) {
      const [ok, done] = this.res.tryEnd(this.pending.subarray(offset - this.pendingBase), this.length);
      if (done) this.done = true;
      if (!ok && !done) return false;
      this.pending = null;
    }
    this.resumeUpstream?.();
    return true;
  }

  onComplete(): void {
    // A chunk still waiting for the client: onWritable's last tryEnd completes the response.
    if (this.aborted || this.done || this.pending !== null) return;
    corkEx = this;
    this.res.cork(corkedEnd);
  }

  onError(): void {
    if (this.aborted || this.done) return;
    this.done = true;
    if (this.headSent) this.res.close();
    else {
      corkEx = this;
      this.res.cork(corkedBadGateway);
    }
  }
}

export function startBare(port: number, origin: string, onListen: (port: number, uws: string) => void): void {
  const loaded = loadUws();
  const pool = new Pool(origin, { pipelining: 1, connections: null, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
  loaded.uws
    .App()
    .any('/*', (res: HttpResponse, req: HttpRequest) => {
      const method = req.getCaseSensitiveMethod();
      const query = req.getQuery();
      const path = query ? `${req.getUrl()}?${query}` : req.getUrl();
      const headers: string[] = [];
      let hasBody = false;
      req.forEach((name, value) => {
        if (DROP_REQUEST.has(name)) {
          if (name === 'transfer-encoding') hasBody = true;
          return;
        }
        if (name === 'content-length' && value !== '0') hasBody = true;
        headers.push(name, value);
      });
      const ex = new Exchange(res);
      res.onAborted(() => ex.onAbortedClient());
      if (hasBody) {
        ex.body = new BodyStream(res);
        res.onData((chunk, isLast) => ex.onBodyData(chunk, isLast));
      }
      pool.dispatch({ method, path, headers, body: ex.body } as Dispatcher.DispatchOptions, ex);
    })
    .listen('127.0.0.1', port, (token) => {
      if (!token) throw new Error(`bare: cannot listen on ${port}`);
      onListen(port, `${loaded.source}@${loaded.version}`);
    });
}

if (require.main === module) {
  const port = Number(process.argv[2]);
  const origin = process.argv[3];
  if (!Number.isInteger(port) || port <= 0 || !origin) {
    process.stderr.write('usage: node dist/bench/bare/server.js <port> <upstream origin>\n');
    process.exit(2);
  }
  startBare(port, origin, (p, uws) => process.stdout.write(JSON.stringify({ port: p, uws }) + '\n'));
  process.on('SIGTERM', () => process.exit(0));
}
