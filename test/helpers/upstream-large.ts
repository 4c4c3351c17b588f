import { createServer, type ServerResponse } from 'node:http';
import { listenLocal as listen } from './ports';

/** 64 KiB where byte i is i & 0xff; repeating it keeps that true for the whole stream. */
export const PATTERN = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => i & 0xff));

/**
 * Writes `total` bytes of `chunk` repeated (the last one cut to fit) with backpressure, then ends.
 * `progress.downloadSent` counts the bytes handed to `res` so far (a test reads it while a peer stalls).
 */
export function streamRepeated(res: ServerResponse, total: number, chunk: Buffer, progress: { downloadSent: number } = { downloadSent: 0 }): { downloadSent: number } {
  const pump = (): void => {
    while (progress.downloadSent < total) {
      const n = Math.min(chunk.length, total - progress.downloadSent);
      progress.downloadSent += n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
  return progress;
}

export interface LargeBodyServer {
  port: number;
  /** Live byte counts, for checking that backpressure holds while a peer is slow. */
  stats: { downloadSent: number; uploadReceived: number };
  close(): Promise<void>;
}

/**
 * - `GET /download?bytes=N` streams N pattern bytes, generated on the fly with backpressure.
 * - `POST /upload[?pause_at=B&pause_ms=M]` counts uploaded bytes (pausing once after B bytes for M ms)
 *   and answers `{ received, pattern_ok }`.
 */
export async function startLargeBodyServer(): Promise<LargeBodyServer> {
  const stats = { downloadSent: 0, uploadReceived: 0 };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.endsWith('/download')) {
      const total = Number(url.searchParams.get('bytes') ?? 0);
      stats.downloadSent = 0;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      res.on('error', () => undefined);
      streamRepeated(res, total, PATTERN, stats);
      return;
    }
    if (url.pathname.endsWith('/upload')) {
      const pauseAt = Number(url.searchParams.get('pause_at') ?? Infinity);
      const pauseMs = Number(url.searchParams.get('pause_ms') ?? 0);
      let paused = false;
      let patternOk = true;
      stats.uploadReceived = 0;
      req.on('data', (c: Buffer) => {
        if (c.length > 0 && c[0] !== (stats.uploadReceived & 0xff)) patternOk = false;
        stats.uploadReceived += c.length;
        if (!paused && stats.uploadReceived >= pauseAt) {
          paused = true;
          req.pause();
          setTimeout(() => req.resume(), pauseMs);
        }
      });
      req.on('end', () => {
        const body = JSON.stringify({ received: stats.uploadReceived, pattern_ok: patternOk });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    res.writeHead(404).end();
  });
  const port = await listen(server);
  return {
    port,
    stats,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
