import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { listenLocal } from './ports';

/**
 * An upstream that answers each request only when the test releases it (no race with a delay);
 * paths starting with `/now` are answered at once.
 */
export interface HeldUpstream {
  port: number;
  /** Paths received so far. */
  seen: string[];
  release(path: string): void;
  close(): Promise<void>;
}

export async function startHeldUpstream(): Promise<HeldUpstream> {
  const seen: string[] = [];
  const held = new Map<string, ServerResponse>();
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push(path);
    req.resume();
    if (path.startsWith('/now')) res.end('now');
    else held.set(path, res);
  });
  const port = await listenLocal(server);
  return {
    port,
    seen,
    release(path) {
      const res = held.get(path);
      assert.ok(res, `no held request ${path}`);
      held.delete(path);
      res.end(path);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
