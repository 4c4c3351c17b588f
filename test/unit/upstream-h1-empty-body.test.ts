// The own client's head for a body taken from the proxy's queue (a ChunkSource) waits, corked, for
// the first body bytes until the end of the loop turn; a body that is complete and empty (a
// chunked request with only its last chunk) sends head and last chunk at once, whether it was
// complete when the request started or its end came after the head.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { H1Connection, type ConnectionOwner } from '../../src/worker/upstream-h1/connection';
import { H1Request } from '../../src/worker/upstream-h1/request';
import { buildRequestHead, FRAMING } from '../../src/worker/upstream-h1/request-head';
import type { ChunkSink, ChunkSource, DispatchHandler } from '../../src/worker/upstream-h1/types';
import { listenLocal } from '../helpers/ports';

/** A body queue as the proxy's RequestBody hands it over, with nothing queued. */
class EmptyBody implements ChunkSource {
  #sink: ChunkSink | null = null;
  #waiting = false;
  constructor(public ended: boolean) {}
  attach(sink: ChunkSink): boolean {
    this.#sink = sink;
    return true;
  }
  feed(sink: ChunkSink): void {
    if (sink !== this.#sink) return;
    this.#waiting = !this.ended;
    if (this.ended) {
      this.#sink = null;
      sink.end();
    }
  }
  detach(): void {
    this.#sink = null;
  }
  /** The client's last (empty) chunk arrives. */
  finish(): void {
    this.ended = true;
    if (this.#waiting) (this.#sink as ChunkSink).ready();
  }
}

test('an empty chunked body: head and last chunk leave at once, not at the end of the loop turn', async () => {
  const received: string[] = [];
  let upstream: Socket | undefined;
  const server = createServer((s) => {
    upstream = s;
    let buf = '';
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      while (buf.includes('0\r\n\r\n')) {
        const end = buf.indexOf('0\r\n\r\n') + 5;
        received.push(buf.slice(0, end));
        buf = buf.slice(end);
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      }
    });
  });
  const port = await listenLocal(server);
  const owner: ConnectionOwner = {
    host: '127.0.0.1', port, connectTimeout: 5000, headLimit: 16384,
    released: () => undefined, closed: () => undefined, replay: () => undefined,
  };
  const conn = new H1Connection(owner);
  try {
    /** Sends one request; resolves with the socket's cork count a tick after the request was sent, and at its response. */
    const send = (body: EmptyBody, path: string, afterStart: () => void = () => undefined): Promise<number> => new Promise((resolve, reject) => {
      let corkedAfterSent = -1;
      const handler: DispatchHandler = {
        onConnect: () => undefined,
        // A tick later: before a setImmediate could have uncorked the head.
        onRequestSent: () => process.nextTick(() => (corkedAfterSent = conn.socket.writableCorked)),
        onHeaders: () => true,
        onData: () => true,
        onComplete: () => resolve(corkedAfterSent),
        onError: reject,
      };
      const head = buildRequestHead('POST', path, ['host', 'up.test'], body);
      assert.ok(head !== null);
      conn.start(new H1Request(handler, 'POST', head, FRAMING.CHUNKED, body, 5000, 5000));
      afterStart();
    });

    // Complete when the request starts (on the fresh connection's connect).
    assert.equal(await send(new EmptyBody(true), '/complete'), 0, 'the head was not held after the body ended');

    // On the kept-alive connection the head is written at once and waits for the body; its end
    // comes later in the same turn (as uWS hands the last chunk over after the request handler).
    const later = new EmptyBody(false);
    const corked = await send(later, '/later', () => {
      assert.equal(conn.socket.writableCorked, 1, 'a head whose body has not started still waits for it');
      later.finish();
    });
    assert.equal(corked, 0, 'the head was not held after the body ended');

    assert.deepEqual(received, [
      'POST /complete HTTP/1.1\r\nhost: up.test\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST /later HTTP/1.1\r\nhost: up.test\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
    ]);
  } finally {
    conn.destroy();
    upstream?.destroy();
    server.close();
  }
});
