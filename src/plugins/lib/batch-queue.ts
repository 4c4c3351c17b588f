/**
 * Kong's plugin queue (kong/tools/queue.lua) for log shippers: entries are batched up to
 * `max_batch_size` or until `max_coalescing_delay` passed since a batch's first entry, sent by
 * one sender at a time (concurrency_limit 1; -1 sends every batch at once), retried with
 * exponential backoff from `initial_retry_delay` to `max_retry_delay` for at most
 * `max_retry_time` seconds, then dropped with one error line. The queue is bounded by
 * `max_entries` (and `max_bytes`): when full, the oldest entry is dropped, never a request held.
 */
import { log } from '../../lib/log';
import type { QueueConf } from './queue-schema';

export type SendBatch<T = string> = (entries: T[]) => Promise<void>;

/** Entries are strings (JSON lines) or Buffers (encoded spans): `length` is what max_bytes counts. */
export class BatchQueue<T extends { readonly length: number } = string> {
  readonly name: string;
  readonly #conf: QueueConf;
  readonly #send: SendBatch<T>;
  #entries: T[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | null = null;
  #inFlight = 0;
  dropped = 0;
  sent = 0;
  #lastDropLog = 0;

  constructor(name: string, conf: QueueConf, send: SendBatch<T>) {
    this.name = name;
    this.#conf = conf;
    this.#send = send;
  }

  get length(): number { return this.#entries.length; }

  add(entry: T): void {
    const c = this.#conf;
    while (this.#entries.length >= c.max_entries || (c.max_bytes !== null && this.#entries.length > 0 && this.#bytes + entry.length > c.max_bytes)) {
      const old = this.#entries.shift() as T;
      this.#bytes -= old.length;
      this.#drop(1, 'log queue full: dropping the oldest entries', null);
    }
    this.#entries.push(entry);
    this.#bytes += entry.length;
    this.#pump();
  }

  /** Counts dropped entries; one error line per second at most, never one per request. */
  #drop(n: number, msg: string, err: Error | null): void {
    this.dropped += n;
    const now = Date.now();
    if (now - this.#lastDropLog > 1000) {
      this.#lastDropLog = now;
      log('error', msg, { queue: this.name, dropped: this.dropped, err: err?.message });
    }
  }

  #pump(): void {
    const c = this.#conf;
    if (c.concurrency_limit === 1 && this.#inFlight > 0) return;
    if (this.#entries.length >= c.max_batch_size) {
      this.#clearTimer();
      this.#sendBatch();
      if (this.#entries.length > 0) this.#pump();
      return;
    }
    if (this.#entries.length > 0 && this.#timer === null) {
      this.#timer = setTimeout(onCoalesced, c.max_coalescing_delay * 1000, this);
      this.#timer.unref();
    }
  }

  /** The coalescing delay passed: send what is there, however few. */
  flushNow(): void {
    this.#clearTimer();
    if (this.#entries.length === 0) return;
    if (this.#conf.concurrency_limit === 1 && this.#inFlight > 0) return;
    this.#sendBatch();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #sendBatch(): void {
    const batch = this.#entries.splice(0, this.#conf.max_batch_size);
    for (const e of batch) this.#bytes -= e.length;
    this.#inFlight++;
    void this.#deliver(batch).finally(() => {
      this.#inFlight--;
      this.#pump();
    });
  }

  async #deliver(batch: T[]): Promise<void> {
    const c = this.#conf;
    const deadline = Date.now() + c.max_retry_time * 1000;
    let delay = c.initial_retry_delay;
    for (;;) {
      try {
        await this.#send(batch);
        this.sent += batch.length;
        return;
      } catch (err) {
        if (Date.now() + delay * 1000 > deadline) {
          this.#drop(batch.length, 'log batch dropped after retries', err as Error);
          return;
        }
        await new Promise((r) => setTimeout(r, delay * 1000).unref());
        delay = Math.min(delay * 2, c.max_retry_delay);
      }
    }
  }
}

function onCoalesced<T extends { readonly length: number }>(q: BatchQueue<T>): void {
  q.flushNow();
}
