/**
 * One appender per file path per worker. Lines are buffered and written in one `write` per turn
 * of the event loop (never sync I/O on the request path). The file is opened with O_APPEND, so
 * the writes of several worker processes land whole, never interleaved inside a line.
 * `reopen` (config) or SIGUSR1 (logrotate's postrotate, relayed by the primary) closes the
 * descriptor, so the next batch creates the file again.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { log } from '../../lib/log';
import { isPipe, stdioFd, StdioWriter } from './stdio-writer';

/** What the handler writes through: a file appender, or stdout/stderr when that is a pipe. */
export interface LineWriter {
  push(line: string, reopen: boolean): void;
  reopen(): void;
  flush(): Promise<void>;
}

/** Above this many buffered bytes, new lines are dropped (a stuck disk must not grow the heap). */
const MAX_BUFFERED = 16 * 1024 * 1024;
const writers = new Map<string, LineWriter>();

export class FileLogWriter {
  readonly path: string;
  #lines: string[] = [];
  #bytes = 0;
  #handle: FileHandle | null = null;
  #flushing = false;
  #scheduled = false;
  #reopenNext = false;
  dropped = 0;
  #lastError = 0;

  constructor(path: string) {
    this.path = path;
  }

  push(line: string, reopen: boolean): void {
    if (this.#bytes + line.length > MAX_BUFFERED) {
      this.dropped++;
      return;
    }
    this.#lines.push(line);
    this.#bytes += line.length;
    if (reopen) this.#reopenNext = true;
    if (!this.#scheduled && !this.#flushing) {
      this.#scheduled = true;
      setImmediate(flushWriter, this);
    }
  }

  /** Close the descriptor; the next batch reopens (creates) the file. */
  reopen(): void {
    this.#reopenNext = true;
    if (!this.#flushing && this.#handle !== null) void this.#close();
  }

  async flush(): Promise<void> {
    this.#scheduled = false;
    if (this.#flushing || this.#lines.length === 0) return;
    this.#flushing = true;
    const text = this.#lines.join('');
    this.#lines = [];
    this.#bytes = 0;
    const reopen = this.#reopenNext;
    this.#reopenNext = false;
    try {
      if (reopen) await this.#close();
      this.#handle ??= await open(this.path, 'a', 0o644);
      await this.#handle.write(text);
      if (reopen) await this.#close();
    } catch (err) {
      await this.#close();
      // One error line per second at most: a full disk must not flood stderr per request.
      const now = Date.now();
      if (now - this.#lastError > 1000) {
        this.#lastError = now;
        log('error', 'file-log write failed', { path: this.path, err: (err as Error).message });
      }
    } finally {
      this.#flushing = false;
    }
    if (this.#lines.length > 0) await this.flush();
  }

  async #close(): Promise<void> {
    const h = this.#handle;
    this.#handle = null;
    if (h !== null) await h.close().catch(() => undefined);
  }
}

function flushWriter(w: FileLogWriter): void {
  void w.flush();
}

/**
 * The writer for a path, one per worker. `/dev/stdout` (or stderr) on a pipe or socket goes
 * through the process's own stream (stdio-writer.ts); on a file or a terminal it is opened and
 * appended to like any file, off the event loop.
 */
export function writerFor(path: string): LineWriter {
  let w = writers.get(path);
  if (w === undefined) {
    const fd = stdioFd(path);
    w = fd > 0 && isPipe(fd) ? new StdioWriter(path, fd === 1 ? process.stdout : process.stderr) : new FileLogWriter(path);
    writers.set(path, w);
  }
  return w;
}

/** SIGUSR1: every file-log file of this worker is reopened before its next line. */
export function reopenFileLogs(): void {
  for (const w of writers.values()) w.reopen();
}

/** Flushes every buffered line (worker shutdown). */
export async function flushFileLogs(): Promise<void> {
  await Promise.all([...writers.values()].map((w) => w.flush()));
}
