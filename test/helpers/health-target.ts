import { createServer, type Server } from 'node:http';
import { freePort } from './ports';

/**
 * An upstream target for the health-check tests that can be stopped and started again on the
 * same port. It counts probes (GET `probePath`) apart from proxied requests, and answers proxied
 * requests with `status` (200 by default) and a body naming itself.
 */
export interface HealthTarget {
  name: string;
  port: number;
  /** Arrival times (ms) of each probe request. */
  probes: number[];
  /** Proxied requests answered, by status. */
  served: Map<number, number>;
  status: number;
  /** Status of probe answers; 0 = never answer a probe (the prober's timeout). */
  probeStatus: number;
  /** Headers of the last probe. */
  probeHeaders: Record<string, string | string[] | undefined>;
  running(): boolean;
  start(): Promise<void>;
  /** Stops listening and cuts open connections: connects are refused until start(). */
  stop(): Promise<void>;
}

export async function startHealthTarget(name: string, probePath = '/health'): Promise<HealthTarget> {
  const port = await freePort();
  let server: Server | null = null;
  const t: HealthTarget = {
    name,
    port,
    probes: [],
    served: new Map(),
    status: 200,
    probeStatus: 200,
    probeHeaders: {},
    running: () => server !== null,
    async start() {
      if (server !== null) return;
      const s = createServer((req, res) => {
        req.resume();
        const probe = req.url === probePath;
        if (probe) {
          t.probes.push(Date.now());
          t.probeHeaders = req.headers;
          if (t.probeStatus === 0) return; // hang: closed when the prober gives up or at stop()
        } else {
          t.served.set(t.status, (t.served.get(t.status) ?? 0) + 1);
        }
        const body = JSON.stringify({ server: name });
        res.writeHead(probe ? t.probeStatus : t.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      server = s;
    },
    async stop() {
      const s = server;
      if (s === null) return;
      server = null;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
  await t.start();
  return t;
}
