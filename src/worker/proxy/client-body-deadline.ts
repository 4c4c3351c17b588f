/**
 * nginx's `client_body_timeout`: "a timeout for reading client request body. The timeout is set
 * only for a period between two successive read operations, not for the transmission of the whole
 * request body. If a client does not transmit anything within this time, the request is
 * terminated with the 408 (Request Time-out) error." The gateway answers 408 and closes the
 * connection; an upstream try already under way is aborted, so nothing half-sent is completed.
 *
 * A request body that is watched is this subclass of RequestBody (app.ts picks it when the
 * setting is on): a chunk costs one counter increment, one sweep per worker keeps the clocks
 * (read-deadline.ts). While the gateway itself pauses the client (the upstream is slow), the
 * clock stops, as nginx reads nothing then either.
 */
import type { HttpResponse } from '../server/uws';
import type { Exchange } from './forward';
import { RequestBody } from './stream-request';
import { ReadDeadlines, type ReadWatch } from './read-deadline';

const clientBodies = new ReadDeadlines();

export class TimedRequestBody extends RequestBody implements ReadWatch {
  reads = 0;
  readSeen = 0;
  readSince = 0;
  readLimit = 0;
  readIndex = -1;
  readonly #ex: Exchange;

  constructor(res: HttpResponse, writeTimeoutMs: number, ex: Exchange, timeoutMs: number) {
    super(res, writeTimeoutMs, ex);
    this.#ex = ex;
    clientBodies.watch(this, timeoutMs);
  }

  override onData(chunk: ArrayBuffer, isLast: boolean): void {
    this.reads++;
    if (isLast) clientBodies.unwatch(this);
    super.onData(chunk, isLast);
  }

  override discard(): void {
    clientBodies.unwatch(this);
    super.discard();
  }

  readExpired(): void {
    this.#ex.clientBodyTimedOut();
  }
}
