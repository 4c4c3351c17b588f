/**
 * One dispatched request: what the connection carrying it needs to write, time and answer it.
 * Its abort and resume are the only functions made per request (the handler keeps them).
 */
import type { Readable } from 'node:stream';
import type { ChunkSource, DispatchHandler } from './types';
import type { H1Connection } from './connection';

export class H1Request {
  readonly handler: DispatchHandler;
  readonly method: string;
  readonly head: string;
  readonly framing: number;
  readonly body: Buffer | Readable | ChunkSource | null;
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  conn: H1Connection | null = null;
  /** The handler got onComplete or onError: nothing more happens to this request. */
  done = false;
  /** The whole request (head and body) went to the socket. */
  sent = false;
  /** Replayed once on a fresh connection after a reused one turned out closed (see connection.ts). */
  replayed = false;

  constructor(handler: DispatchHandler, method: string, head: string, framing: number, body: Buffer | Readable | ChunkSource | null, headersTimeout: number, bodyTimeout: number) {
    this.handler = handler;
    this.method = method;
    this.head = head;
    this.framing = framing;
    this.body = body;
    this.headersTimeout = headersTimeout;
    this.bodyTimeout = bodyTimeout;
  }

  readonly abort = (err: Error): void => {
    if (this.done) return;
    if (this.conn !== null) {
      this.conn.fail(this, err);
      return;
    }
    this.done = true;
    this.handler.onError(err);
  };

  readonly resume = (): void => {
    if (!this.done && this.conn !== null) this.conn.resume(this);
  };
}
