/**
 * Many keep-alive client connections held open with the least work: raw sockets, one pre-built
 * GET each, the response read just far enough to know it is complete (Content-Length framing).
 * For the memory bench: open N, make one request on each, hold them, close them.
 *
 * Hyperway's uWS closes a connection after about 10 s without a byte either way (README, "Not
 * settings yet"), so holding longer needs a request on each connection now and then: `refresh`.
 */
import { connect, type Socket } from 'node:net';

interface Conn {
  socket: Socket;
  buf: Buffer;
  need: number;
  onDone: ((err: Error | null) => void) | null;
  timer: NodeJS.Timeout | null;
}

export class IdleConnections {
  readonly #host: string;
  readonly #port: number;
  readonly #req: Buffer;
  readonly #conns = new Set<Conn>();
  /** Connections closed by the server (or failed) since open(). */
  closedByPeer = 0;
  failedRequests = 0;
  #closing = false;

  constructor(host: string, port: number, path = '/') {
    this.#host = host;
    this.#port = port;
    this.#req = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`, 'latin1');
  }

  get open(): number { return this.#conns.size; }

  /** Opens `n` connections, `concurrency` at a time, each after one complete 200 response. */
  async openMany(n: number, concurrency = 256, onProgress?: (opened: number) => void): Promise<void> {
    let started = 0;
    let opened = 0;
    const one = async (): Promise<void> => {
      while (started < n) {
        started++;
        await this.#openOne();
        opened++;
        if (onProgress && opened % 1000 === 0) onProgress(opened);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, one));
  }

  /** Every `everyMs`, per connection (spread out), one more request keeps it under idle cuts. */
  refresh(everyMs: number): void {
    for (const c of this.#conns) this.#schedule(c, everyMs, Math.random() * everyMs);
  }

  #schedule(c: Conn, everyMs: number, firstMs: number): void {
    c.timer = setTimeout(() => {
      c.timer = null;
      this.#request(c).then(
        () => { if (!this.#closing) this.#schedule(c, everyMs, everyMs); },
        () => { this.failedRequests++; },
      );
    }, firstMs);
  }

  closeAll(): void {
    this.#closing = true;
    for (const c of this.#conns) {
      if (c.timer !== null) clearTimeout(c.timer);
      c.socket.destroy();
    }
    this.#conns.clear();
  }

  #openOne(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.#host, port: this.#port });
      const c: Conn = { socket, buf: Buffer.alloc(0), need: -1, onDone: null, timer: null };
      socket.setNoDelay(true);
      socket.on('data', (d: Buffer) => this.#onData(c, d));
      socket.on('error', (e) => this.#finish(c, e));
      socket.on('close', () => {
        const known = this.#conns.delete(c);
        if (c.timer !== null) clearTimeout(c.timer);
        if (known && !this.#closing) this.closedByPeer++;
        this.#finish(c, new Error('closed'));
      });
      socket.once('connect', () => {
        this.#request(c).then(() => {
          this.#conns.add(c);
          resolve();
        }, reject);
      });
      socket.once('error', reject);
    });
  }

  #request(c: Conn): Promise<void> {
    return new Promise((resolve, reject) => {
      c.onDone = (err) => (err ? reject(err) : resolve());
      c.buf = Buffer.alloc(0);
      c.need = -1;
      c.socket.write(this.#req);
    });
  }

  #onData(c: Conn, d: Buffer): void {
    c.buf = c.buf.length === 0 ? d : Buffer.concat([c.buf, d]);
    if (c.need < 0) {
      const end = c.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = c.buf.subarray(0, end).toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!status || status[1] !== '200' || !len) return this.#finish(c, new Error(`unexpected response: ${head.split('\r\n')[0]}`));
      c.need = end + 4 + Number(len[1]);
    }
    if (c.buf.length >= c.need) {
      c.buf = Buffer.alloc(0);
      c.need = -1;
      this.#finish(c, null);
    }
  }

  #finish(c: Conn, err: Error | null): void {
    const done = c.onDone;
    c.onDone = null;
    done?.(err);
  }
}
