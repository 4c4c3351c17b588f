/**
 * One keep-alive connection to an upstream: it carries one request at a time (no pipelining),
 * writes the request, parses the response and streams its body to the request's handler with
 * backpressure (a handler that returns false pauses the socket until the request's resume()).
 *
 * Timers: connect_timeout until the TCP handshake completes; read_timeout from the moment the
 * whole request is written to the response head, then between two reads of the body (nginx's
 * proxy_read_timeout), not counted while the handler holds the connection paused (send_timeout
 * is the client's side of that wait). One Timeout per request at most; reads only note the time.
 *
 * A reused connection that the upstream had closed just as it was picked (the keep-alive race:
 * the upstream's idle timer fired while the request was on its way) fails with a reset before any
 * response byte. Such a request is replayed once on a fresh connection when that is safe (an
 * idempotent method and a body that is absent or a Buffer), as Go's and nginx's clients do; else
 * it fails as a reset, which the Exchange may retry.
 */
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { BodyWriter, type BodyOwner } from './body-writer';
import { ChunkWriter } from './chunk-writer';
import { ChunkedDecoder } from './chunked-decoder';
import { parseResponseHead, type ResponseHead } from './response-parser';
import { FRAMING } from './request-head';
import { BAD, h1Error } from './errors';
import type { H1Request } from './request';

/** What a connection needs from its pool. */
export interface ConnectionOwner {
  readonly host: string;
  readonly port: number;
  readonly connectTimeout: number;
  /** proxy_buffer_size: the largest response head. */
  readonly headLimit: number;
  /** The response is complete and the connection can carry another request. */
  released(conn: H1Connection): void;
  /** The socket is gone (or going): forget the connection. */
  closed(conn: H1Connection): void;
  /** Send `req` again on a fresh connection (the keep-alive race above). */
  replay(req: H1Request): void;
}

const P_HEAD = 0;
const P_LENGTH = 1;
const P_CHUNKED = 2;
const P_CLOSE = 3;

const T_NONE = 0;
const T_CONNECT = 1;
const T_HEAD = 2;
const T_BODY = 3;

const REPLAYABLE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const RESET_CODES: ReadonlySet<string | undefined> = new Set(['ECONNRESET', 'EPIPE', 'HW_ERR_UPSTREAM_RESET']);

function uncork(s: Socket): void {
  s.uncork();
}

export class H1Connection implements BodyOwner {
  readonly socket: Socket;
  readonly #owner: ConnectionOwner;
  #connected = false;
  #closed = false;
  /** The request being carried, or null while idle. */
  req: H1Request | null = null;
  /** Requests started on this connection: above 1 it is a reused one. */
  uses = 0;
  /** While idle: when the pool must close it (ms, Date.now()). */
  idleDeadline = 0;
  /** The upstream's `Keep-Alive: timeout=` of the last response in ms, or -1. */
  keepAliveHintMs = -1;

  #phase = P_HEAD;
  #buf: Buffer | null = null;
  #pos = 0;
  #remaining = 0;
  #decoder: ChunkedDecoder | null = null;
  #keepAlive = true;
  #gotBytes = false;
  #ended = false;
  #paused = false;
  #processing = false;

  #timer: NodeJS.Timeout | null = null;
  #timerKind = T_NONE;
  #timerMs = 0;
  #lastRead = 0;

  /** Writes a streamed request body (a Readable: undici's contract, a spill file); made for the first one. */
  #bodyWriter: BodyWriter | null = null;
  /** Writes a request body taken straight from the proxy's queue (a ChunkSource); made for the first one. */
  #chunkWriter: ChunkWriter | null = null;
  /** The socket is corked on a request head that waits for the first bytes of its ChunkSource body. */
  #headHeld = false;
  /** Uncorks a held head (once: the setImmediate that backs it up may come after the body's end). */
  readonly #releaseHead = (): void => {
    if (!this.#headHeld) return;
    this.#headHeld = false;
    this.socket.uncork();
  };

  constructor(owner: ConnectionOwner) {
    this.#owner = owner;
    const s = connect({ host: owner.host, port: owner.port });
    this.socket = s;
    s.on('connect', this.#onConnect);
    s.on('data', this.#onData);
    s.on('end', this.#onEnd);
    s.on('error', this.#onError);
    s.on('close', this.#onClose);
    s.on('drain', this.#onDrain);
    this.#arm(T_CONNECT, owner.connectTimeout);
  }

  /** Idle and still open: may carry a request. */
  get usable(): boolean {
    return !this.#closed && this.req === null && !this.#ended && !this.socket.destroyed;
  }

  start(req: H1Request): void {
    this.req = req;
    req.conn = this;
    this.uses++;
    this.#phase = P_HEAD;
    this.#keepAlive = true;
    this.#gotBytes = false;
    this.#buf = null;
    this.#pos = 0;
    if (this.#connected) this.#write(req);
  }

  // ---- the request ---------------------------------------------------------------------------

  #write(req: H1Request): void {
    const s = this.socket;
    const body = req.body;
    if (req.framing === FRAMING.NONE || body === null) {
      s.write(req.head, 'latin1');
      this.#requestSent(req);
    } else if (Buffer.isBuffer(body)) {
      s.cork();
      s.write(req.head, 'latin1');
      s.write(body);
      s.uncork();
      this.#requestSent(req);
    } else if (!(body instanceof Readable)) {
      const w = (this.#chunkWriter ??= new ChunkWriter(this));
      if (!w.start(body, req.framing === FRAMING.CHUNKED)) {
        this.fail(req, h1Error('HW_ERR_UPSTREAM_DISPATCH', 'the request body is no longer available'));
        return;
      }
      // The head goes with the first body bytes (one writev): now when some are queued, else at
      // the latest at the end of this loop turn. A client's first body bytes usually come in the
      // same read as its head, but uWS hands them over after this handler returns (and after the
      // ticks that follow it): a next-tick uncork would send the head in a write of its own. A
      // body that is complete (an empty chunked one: only its last chunk) releases it at once,
      // here or when its end arrives (bodySent()): nothing more can join that write.
      s.cork();
      s.write(req.head, 'latin1');
      this.#headHeld = true;
      w.pump();
      if (w.taken > 0) this.#releaseHead();
      else if (this.#headHeld) setImmediate(this.#releaseHead);
    } else {
      if (body.destroyed || body.readableEnded) {
        this.fail(req, h1Error('HW_ERR_UPSTREAM_DISPATCH', 'the request body stream is no longer readable'));
        return;
      }
      // The head waits for the first body bytes (one write), at most until the next tick.
      s.cork();
      s.write(req.head, 'latin1');
      process.nextTick(uncork, s);
      (this.#bodyWriter ??= new BodyWriter(this)).start(body, req.framing === FRAMING.CHUNKED);
    }
  }

  #requestSent(req: H1Request): void {
    req.sent = true;
    req.handler.onRequestSent?.();
    if (this.#phase === P_HEAD && this.#timerKind === T_NONE) this.#arm(T_HEAD, req.headersTimeout);
  }

  // BodyOwner: what the streamed body's writer reports.

  bodySent(): void {
    if (this.#headHeld) this.#releaseHead();
    const req = this.req;
    if (req !== null && !req.done) this.#requestSent(req);
  }

  bodyFailed(err: Error): void {
    const req = this.req;
    if (req !== null) this.fail(req, err);
  }

  bodyCut(): void {
    const req = this.req;
    if (req === null || req.done) return;
    if (this.#phase === P_HEAD) this.fail(req, h1Error('HW_ERR_UPSTREAM_RESET', 'the request body ended before it was complete'));
    // A response under way: it may finish, but the connection cannot carry another request.
    else this.#keepAlive = false;
  }

  // ---- the response --------------------------------------------------------------------------

  readonly #onDrain = (): void => {
    this.#bodyWriter?.drain();
    this.#chunkWriter?.drain();
  };

  readonly #onConnect = (): void => {
    this.#connected = true;
    this.#disarm();
    this.socket.setNoDelay(true);
    const req = this.req;
    if (req !== null && !req.done) this.#write(req);
  };

  readonly #onData = (chunk: Buffer): void => {
    const req = this.req;
    if (req === null || req.done) {
      // Bytes nobody asked for (on an idle connection): the framing is lost.
      this.destroy();
      return;
    }
    this.#gotBytes = true;
    if (this.#timerKind === T_BODY) this.#lastRead = Date.now();
    const buf = this.#buf;
    if (buf === null || this.#pos >= buf.length) {
      this.#buf = chunk;
      this.#pos = 0;
    } else {
      this.#buf = Buffer.concat([buf.subarray(this.#pos), chunk]);
      this.#pos = 0;
    }
    this.#process();
  };

  #process(): void {
    if (this.#processing) return;
    this.#processing = true;
    loop: while (!this.#paused) {
      const req = this.req;
      const buf = this.#buf;
      if (req === null || req.done || buf === null) break;
      if (this.#pos >= buf.length) {
        this.#buf = null;
        break;
      }
      switch (this.#phase) {
        case P_HEAD: {
          const view = this.#pos === 0 ? buf : buf.subarray(this.#pos);
          const head = parseResponseHead(view, this.#owner.headLimit);
          if (head === null) {
            this.#buf = view;
            this.#pos = 0;
            break loop;
          }
          if (typeof head === 'string') {
            this.fail(req, h1Error('HW_ERR_UPSTREAM_BAD_RESPONSE', head));
            break loop;
          }
          this.#buf = view;
          this.#pos = head.length;
          if (head.status < 200) {
            // Interim responses (100, 102, 103) are not relayed; 101 was never asked for.
            if (head.status === 101) {
              this.fail(req, h1Error('HW_ERR_UPSTREAM_BAD_RESPONSE', BAD.SWITCHING));
              break loop;
            }
            continue;
          }
          this.#onHead(req, head);
          continue;
        }
        case P_LENGTH: {
          const n = Math.min(this.#remaining, buf.length - this.#pos);
          const slice = buf.subarray(this.#pos, this.#pos + n);
          this.#pos += n;
          this.#remaining -= n;
          const more = req.handler.onData(slice);
          if (req.done) break loop;
          if (this.#remaining === 0) this.#complete(req);
          else if (!more) this.#pause();
          continue;
        }
        case P_CHUNKED: {
          const d = this.#decoder as ChunkedDecoder;
          this.#pos = d.step(buf, this.#pos);
          if (d.error !== null) {
            this.fail(req, h1Error('HW_ERR_UPSTREAM_BAD_RESPONSE', d.error));
            break loop;
          }
          const more = d.dataStart >= 0 ? req.handler.onData(buf.subarray(d.dataStart, d.dataEnd)) : true;
          if (req.done) break loop;
          if (d.done) this.#complete(req);
          else if (!more) this.#pause();
          continue;
        }
        default: { // P_CLOSE
          const slice = this.#pos === 0 ? buf : buf.subarray(this.#pos);
          this.#pos = buf.length;
          if (!req.handler.onData(slice) && !req.done) this.#pause();
          continue;
        }
      }
    }
    this.#processing = false;
    if (this.#ended && !this.#paused && (this.#buf === null || this.#pos >= this.#buf.length)) {
      this.#endOfStream();
      return;
    }
    const req = this.req;
    if (req !== null && !req.done && !this.#paused && this.#phase !== P_HEAD && this.#timerKind === T_NONE) this.#arm(T_BODY, req.bodyTimeout);
  }

  #onHead(req: H1Request, head: ResponseHead): void {
    this.#disarm();
    const status = head.status;
    this.#keepAlive = head.keepAlive;
    this.keepAliveHintMs = head.keepAliveHintMs;
    const bodiless = req.method === 'HEAD' || status === 204 || status === 304;
    if (bodiless) {
      this.#remaining = 0;
      this.#phase = P_LENGTH;
    } else if (head.chunked) {
      (this.#decoder ??= new ChunkedDecoder()).reset();
      this.#phase = P_CHUNKED;
    } else if (head.contentLength >= 0 && !head.otherCoding) {
      this.#remaining = head.contentLength;
      this.#phase = P_LENGTH;
    } else {
      this.#phase = P_CLOSE;
      this.#keepAlive = false;
    }
    const more = req.handler.onHeaders(status, head.rawHeaders, req.resume);
    if (req.done) return;
    if (this.#phase === P_LENGTH && this.#remaining === 0) {
      this.#complete(req);
      return;
    }
    // The body timer starts once #process has used what this read brought (a small response
    // usually completes in the same read, and then needs no timer at all).
    if (!more) this.#pause();
  }

  #pause(): void {
    this.#paused = true;
    this.socket.pause();
    if (this.#timerKind === T_BODY) this.#disarm();
  }

  resume(req: H1Request): void {
    if (req !== this.req || !this.#paused) return;
    this.#paused = false;
    this.socket.resume();
    this.#arm(T_BODY, req.bodyTimeout);
    this.#process();
  }

  #complete(req: H1Request): void {
    req.done = true;
    this.req = null;
    this.#disarm();
    const leftover = this.#buf !== null && this.#pos < this.#buf.length;
    this.#buf = null;
    const bodyUnsent = !req.sent || (this.#bodyWriter !== null && this.#bodyWriter.active) || (this.#chunkWriter !== null && this.#chunkWriter.active);
    this.#bodyWriter?.detach();
    this.#chunkWriter?.detach();
    // More bytes than the response framed, a body still going out, `Connection: close`: not reusable.
    const reusable = this.#keepAlive && !leftover && !bodyUnsent && !this.#closed && !this.#ended;
    if (this.#paused) {
      this.#paused = false;
      if (reusable) this.socket.resume();
    }
    if (reusable) this.#owner.released(this);
    else this.destroy();
    req.handler.onComplete(null);
  }

  /** The upstream's FIN with every byte before it processed. */
  #endOfStream(): void {
    const req = this.req;
    if (req !== null && !req.done) {
      if (this.#phase === P_CLOSE) this.#complete(req);
      else this.fail(req, h1Error('HW_ERR_UPSTREAM_RESET', 'the upstream closed the connection before the response was complete'));
    }
    this.destroy();
  }

  /** Ends `req` with `err` (once) and closes the connection; or replays it (see the header). */
  fail(req: H1Request, err: Error & { code?: string }): void {
    if (req.done || req.conn !== this) return;
    req.done = true;
    if (this.req === req) this.req = null;
    this.#disarm();
    this.#bodyWriter?.detach();
    this.#chunkWriter?.detach();
    const replay = !req.replayed && this.uses > 1 && !this.#gotBytes && RESET_CODES.has(err.code) &&
      REPLAYABLE_METHODS.has(req.method) && (req.body === null || Buffer.isBuffer(req.body));
    this.destroy();
    if (replay) {
      req.replayed = true;
      req.done = false;
      req.sent = false;
      req.conn = null;
      this.#owner.replay(req);
      return;
    }
    req.handler.onError(err);
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disarm();
    this.#buf = null;
    this.socket.destroy();
    this.#owner.closed(this);
  }

  readonly #onEnd = (): void => {
    this.#ended = true;
    if (!this.#processing && (this.#buf === null || this.#pos >= this.#buf.length)) this.#endOfStream();
  };

  readonly #onError = (err: Error): void => {
    const req = this.req;
    if (req !== null && !req.done) this.fail(req, err);
    else this.destroy();
  };

  readonly #onClose = (): void => {
    const req = this.req;
    if (req !== null && !req.done) this.fail(req, h1Error('HW_ERR_UPSTREAM_RESET', 'the upstream connection closed'));
    else this.destroy();
  };

  // ---- timers --------------------------------------------------------------------------------

  #arm(kind: number, ms: number): void {
    this.#disarm();
    if (!(ms > 0)) return;
    this.#timerKind = kind;
    this.#timerMs = ms;
    this.#lastRead = Date.now();
    this.#timer = setTimeout(this.#onTimer, ms);
  }

  #disarm(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#timerKind = T_NONE;
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    const kind = this.#timerKind;
    this.#timerKind = T_NONE;
    const req = this.req;
    if (kind === T_BODY) {
      // Reads only noted the time: the deadline is the last read plus read_timeout.
      const left = this.#lastRead + this.#timerMs - Date.now();
      if (left > 0) {
        this.#timerKind = T_BODY;
        this.#timer = setTimeout(this.#onTimer, left);
        return;
      }
    }
    if (req === null || req.done) {
      this.destroy();
      return;
    }
    if (kind === T_CONNECT) this.fail(req, h1Error('HW_ERR_UPSTREAM_CONNECT_TIMEOUT', `connect_timeout: no connection to ${this.#owner.host}:${this.#owner.port} in ${this.#timerMs} ms`));
    else this.fail(req, h1Error('HW_ERR_UPSTREAM_TIMEOUT', `read_timeout: the upstream sent nothing for ${this.#timerMs} ms`));
  };
}
