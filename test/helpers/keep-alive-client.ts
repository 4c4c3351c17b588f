/**
 * One raw keep-alive connection for tests that need several exchanges on the same socket:
 * uploads with a stall check, and reads complete responses one at a time.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { parseRawResponse, dechunk } from './raw-http';

const CHUNK = 64 * 1024;

/** Bytes taken by the first complete response in `data`, or -1 while it is incomplete. */
function firstResponseLength(data: Buffer): number {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return -1;
  const parsed = parseRawResponse(data);
  if (!parsed.complete) return -1;
  if (parsed.headers['transfer-encoding']?.toLowerCase() === 'chunked') return headEnd + 4 + dechunk(data.subarray(headEnd + 4)).consumed;
  return headEnd + 4 + Number(parsed.headers['content-length'] ?? 0);
}

/**
 * One raw keep-alive connection: uploads with a stall check and reads responses one at a time
 * (the bytes of each are consumed, so the next call parses the following response).
 */
export class KeepAliveClient {
  #data = Buffer.alloc(0);
  #waiters = new Set<() => void>();
  /** Set once the server closed or reset the connection, with how much of the body had been written. */
  closed: { bodyWritten: number; error?: string } | null = null;
  #bodyWritten = 0;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (c: Buffer) => {
      this.#data = Buffer.concat([this.#data, c]);
      this.#wake();
    });
    sock.on('error', (err) => (this.closed ??= { bodyWritten: this.#bodyWritten, error: err.message }));
    sock.on('close', () => {
      this.closed ??= { bodyWritten: this.#bodyWritten };
      this.#wake();
    });
  }

  static open(port: number): Promise<KeepAliveClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ port, host: '127.0.0.1' });
      sock.once('connect', () => resolve(new KeepAliveClient(sock)));
      sock.once('error', reject);
    });
  }

  write(s: string): void {
    this.sock.write(s);
  }

  /** Writes the head and `bytes` of body in 64 KiB chunks, honouring 'drain'; fails on a 5 s stall or a close. */
  async upload(head: string, bytes: number): Promise<void> {
    this.sock.write(head);
    const chunk = Buffer.alloc(CHUNK, 0x61);
    this.#bodyWritten = 0;
    while (this.#bodyWritten < bytes) {
      if (this.closed !== null) assert.fail(`connection closed after ${this.#bodyWritten} of ${bytes} body bytes: ${JSON.stringify(this.closed)}`);
      const n = Math.min(CHUNK, bytes - this.#bodyWritten);
      this.#bodyWritten += n;
      if (this.sock.write(n === CHUNK ? chunk : chunk.subarray(0, n))) continue;
      const drained = await new Promise<boolean>((r) => {
        const t = setTimeout(() => r(false), 5000);
        const done = (): void => {
          clearTimeout(t);
          r(true);
        };
        this.sock.once('drain', done);
        this.sock.once('close', done);
      });
      assert.ok(drained, `upload stalled for 5 s at ${this.#bodyWritten} of ${bytes} bytes`);
    }
  }

  /** The next complete response; fails if the connection closes first or after `timeoutMs`. */
  nextResponse(what: string, timeoutMs = 10000): Promise<ReturnType<typeof parseRawResponse>> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const len = firstResponseLength(this.#data);
        if (len < 0 && this.closed === null) return;
        clearTimeout(t);
        this.#waiters.delete(check);
        if (len < 0) {
          reject(new Error(`connection closed before ${what}: ${JSON.stringify(this.closed)}; got ${this.#preview()}`));
          return;
        }
        const res = parseRawResponse(this.#data.subarray(0, len));
        this.#data = this.#data.subarray(len);
        resolve(res);
      };
      const t = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${this.#preview()}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  destroy(): void {
    this.sock.destroy();
  }

  #wake(): void {
    for (const f of [...this.#waiters]) f();
  }

  #preview(): string {
    return JSON.stringify(this.#data.toString('latin1').slice(0, 400));
  }
}

