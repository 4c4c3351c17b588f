/** The dispatch contract the proxy's Exchange speaks (undici's core handler interface). */
import type { Readable } from 'node:stream';

export interface DispatchOptions {
  path: string;
  method: string;
  /** Flat [name, value, …], names lowercased. */
  headers: string[];
  body: Buffer | Readable | ChunkSource | null;
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

/**
 * A request body the own client takes straight from its queue, with no stream in between
 * (proxy/stream-request.ts's RequestBody): the sink asks (feed) and the source hands over what
 * is queued, then tells the sink (ready) when more arrives while it waits.
 */
export interface ChunkSource {
  /** `sink` takes the body from the first queued chunk; false when the body is gone (the exchange dropped it). */
  attach(sink: ChunkSink): boolean;
  /** Hands queued chunks to sink.chunk() until it returns false or none is left; sink.end() once the last one is taken. */
  feed(sink: ChunkSink): void;
  /** The sink is done with the body (the request completed or failed). */
  detach(sink: ChunkSink): void;
}

export interface ChunkSink {
  /** Send one chunk; false once enough bytes wait unsent: nothing more until the sink feeds again. */
  chunk(c: Buffer): boolean;
  /** Every chunk is taken: the body is complete. */
  end(): void;
  /** Chunks arrived (or the body ended) while the sink waited for them. */
  ready(): void;
  /** The body was dropped before its end (the client left, or the exchange is done with it). */
  cut(): void;
}
