/**
 * file-log to `/dev/stdout` or `/dev/stderr` when that is a pipe or a socket (a container's log
 * driver, systemd, a shell pipe). Each worker writes to the descriptor it inherited from the
 * primary, through node's stream for it, which is asynchronous for pipes on POSIX: the event loop
 * never waits on a slow reader. What the reader has not taken yet is bounded: past MAX_BUFFERED
 * bytes new lines are dropped and counted (one error line per second names the count).
 *
 * Several workers share the pipe, so writes are whole lines in chunks of at most PIPE_BUF bytes,
 * one chunk in flight at a time: a non-blocking pipe write of up to PIPE_BUF bytes lands whole or
 * not at all, so lines of different workers never interleave (a single line longer than PIPE_BUF
 * can still be split by another worker's chunk).
 */
import { fstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { log } from '../../lib/log';

/** Linux's PIPE_BUF: the largest write a pipe takes atomically. */
const PIPE_BUF = 4096;
/** Bytes waiting for a slow reader before lines are dropped. */
export const MAX_BUFFERED = 2 * 1024 * 1024;
const FLUSH_WAIT_MS = 2000;

export class StdioWriter {
  readonly path: string;
  readonly #stream: Writable;
  #lines: string[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  #writing = false;
  #idle: (() => void)[] = [];
  dropped = 0;
  #lastDropLog = 0;

  constructor(path: string, stream: Writable) {
    this.path = path;
    this.#stream = stream;
    // A reader that went away (EPIPE) must not crash the worker: what is buffered is dropped.
    stream.on('error', (err: Error) => {
      this.dropped += this.#lines.length - this.#head;
      this.#bytes = 0;
      this.#head = this.#lines.length;
      log('error', 'file-log: stdout write failed', { path: this.path, err: err.message, dropped: this.dropped });
    });
  }

  push(line: string): void {
    const size = Buffer.byteLength(line);
    if (this.#bytes + size > MAX_BUFFERED) {
      this.dropped++;
      const now = Date.now();
      if (now - this.#lastDropLog > 1000) {
        this.#lastDropLog = now;
        log('error', 'file-log: the reader of stdout is slower than the traffic: dropping access log lines', { path: this.path, dropped: this.dropped });
      }
      return;
    }
    this.#lines.push(line);
    this.#sizes.push(size);
    this.#bytes += size;
    if (!this.#writing) this.#next();
  }

  /** Nothing to reopen: the descriptor is the process's own. */
  reopen(): void {}

  /**
   * Resolves once every buffered line was handed to the kernel, or after FLUSH_WAIT_MS (worker
   * shutdown must not hang on a reader that stopped reading).
   */
  flush(): Promise<void> {
    if (!this.#writing && this.#head === this.#lines.length) return Promise.resolve();
    return new Promise((r) => {
      this.#idle.push(r);
      setTimeout(r, FLUSH_WAIT_MS).unref();
    });
  }

  #next(): void {
    const lines = this.#lines;
    if (this.#head === lines.length) {
      this.#writing = false;
      this.#lines = [];
      this.#sizes = [];
      this.#head = 0;
      for (const r of this.#idle.splice(0)) r();
      return;
    }
    let end = this.#head;
    let size = 0;
    do size += this.#sizes[end++];
    while (end < lines.length && size + this.#sizes[end] <= PIPE_BUF);
    const chunk = end - this.#head === 1 ? lines[this.#head] : lines.slice(this.#head, end).join('');
    this.#head = end;
    this.#bytes -= size;
    this.#writing = true;
    this.#stream.write(chunk, this.#written);
  }

  /** A chunk was taken: the next one (the consumed lines are compacted now and then). */
  readonly #written = (): void => {
    if (this.#head > 1024) {
      this.#lines = this.#lines.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    this.#next();
  };
}

/** The descriptor a path names when it is the process's stdout or stderr, else -1. */
export function stdioFd(path: string): number {
  if (path === '/dev/stdout' || path === '/dev/fd/1' || path === '/proc/self/fd/1') return 1;
  if (path === '/dev/stderr' || path === '/dev/fd/2' || path === '/proc/self/fd/2') return 2;
  return -1;
}

/** True when fd is a pipe or socket: node's stream for it is asynchronous then. */
export function isPipe(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}
