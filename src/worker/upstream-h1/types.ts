/** The dispatch contract the proxy's Exchange speaks (undici's core handler interface). */
import type { Readable } from 'node:stream';

export interface DispatchOptions {
  path: string;
  method: string;
  /** Flat [name, value, …], names lowercased. */
  headers: string[];
  body: Buffer | Readable | null;
  /** read_timeout in ms: to the response head, then between two reads of the body. */
  headersTimeout: number;
  bodyTimeout: number;
}

export interface DispatchHandler {
  onConnect(abort: (err: Error) => void): void;
  /** The whole request is written (undici calls it too): the gateway's read_timeout clock starts. */
  onRequestSent?(): void;
  /** Returns false to pause the upstream until `resume` is called. */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean;
  /** Returns false to pause the upstream until `resume` is called. */
  onData(chunk: Buffer): boolean;
  onComplete(trailers: Buffer[] | null): void;
  onError(err: Error): void;
}
