/**
 * An in-process HTTP load generator for the long-running benches (soak, worker kill), where what
 * matters is every failed request, not peak throughput: keep-alive connections through one
 * http.Agent, requests taken round-robin from a mix, each checked for its status and body length.
 *
 * rate > 0: open loop, `rate` requests per second spread over the connections (a request that
 * would queue behind `connections × 4` in flight is counted as skipped, so a stall shows instead
 * of piling up). rate = 0: closed loop, every connection sends its next request as soon as the
 * previous one ends (wrk -cN's load shape).
 */
import { Agent, request, type OutgoingHttpHeaders } from 'node:http';

export interface MixEntry {
  kind: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: Buffer;
  /** Expected response body length in bytes. */
  expectBytes: number;
}

export interface LoadCounters {
  sent: number;
  ok: number;
  failed: number;
  skipped: number;
  /** Failure reason (error code, `status NNN`, `short body`) → count. */
  reasons: Map<string, number>;
  /** Kind → completed ok. */
  byKind: Map<string, number>;
}

export interface RateLoadOptions {
  baseUrl: string;
  rate: number;
  connections: number;
  mix: MixEntry[];
  timeoutMs?: number;
  /** false: a new connection per request (`Connection: close`). Default true. */
  keepAlive?: boolean;
}

export class RateLoad {
  readonly counters: LoadCounters = { sent: 0, ok: 0, failed: 0, skipped: 0, reasons: new Map(), byKind: new Map() };
  /** Latency in µs of each ok request (the soak's p50/p99). */
  readonly latenciesUs: number[] = [];
  #keepLatencies: boolean;
  readonly #opts: RateLoadOptions;
  readonly #agent: Agent;
  readonly #url: URL;
  #next = 0;
  #inFlight = 0;
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #startedAt = 0;
  #idle: Array<() => void> = [];

  constructor(opts: RateLoadOptions, keepLatencies = false) {
    this.#opts = opts;
    this.#keepLatencies = keepLatencies;
    this.#url = new URL(opts.baseUrl);
    this.#agent = new Agent({ keepAlive: opts.keepAlive ?? true, maxSockets: opts.connections, maxFreeSockets: opts.connections, scheduling: 'fifo' });
  }

  get inFlight(): number { return this.#inFlight; }

  start(): void {
    this.#running = true;
    this.#startedAt = performance.now();
    if (this.#opts.rate > 0) {
      this.#timer = setInterval(() => this.#tick(), 5);
    } else {
      for (let i = 0; i < this.#opts.connections; i++) this.#send();
    }
  }

  /** Stops issuing; resolves once every request in flight has ended. */
  stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    const done = (): void => this.#agent.destroy();
    if (this.#inFlight === 0) {
      done();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idle.push(() => { done(); resolve(); }));
  }

  #tick(): void {
    const due = Math.floor(((performance.now() - this.#startedAt) / 1000) * this.#opts.rate);
    const cap = this.#opts.connections * 4;
    while (this.counters.sent + this.counters.skipped < due) {
      if (this.#inFlight >= cap) this.counters.skipped++;
      else this.#send();
    }
  }

  #fail(reason: string): void {
    this.counters.failed++;
    this.counters.reasons.set(reason, (this.counters.reasons.get(reason) ?? 0) + 1);
  }

  #send(): void {
    const entry = this.#opts.mix[this.#next++ % this.#opts.mix.length];
    this.counters.sent++;
    this.#inFlight++;
    const t0 = performance.now();
    let settled = false;
    const settle = (reason: string | null): void => {
      if (settled) return;
      settled = true;
      this.#inFlight--;
      if (reason === null) {
        this.counters.ok++;
        this.counters.byKind.set(entry.kind, (this.counters.byKind.get(entry.kind) ?? 0) + 1);
        if (this.#keepLatencies) this.latenciesUs.push(Math.round((performance.now() - t0) * 1000));
      } else this.#fail(reason);
      if (this.#running && this.#opts.rate === 0) this.#send();
      else if (!this.#running && this.#inFlight === 0) for (const f of this.#idle.splice(0)) f();
    };
    const headers: OutgoingHttpHeaders = { ...entry.headers };
    if (entry.body) headers['content-length'] = entry.body.length;
    const req = request({
      agent: this.#agent, host: this.#url.hostname, port: this.#url.port, method: entry.method, path: entry.path, headers,
      timeout: this.#opts.timeoutMs ?? 10_000,
    }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => {
        if (res.statusCode !== 200) settle(`status ${res.statusCode}`);
        else if (bytes !== entry.expectBytes) settle(`body ${bytes} of ${entry.expectBytes} bytes`);
        else settle(null);
      });
      res.on('error', (e: NodeJS.ErrnoException) => settle(e.code ?? e.message));
      res.on('aborted', () => settle('aborted'));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => settle(e.code ?? e.message));
    req.end(entry.body);
  }
}

/** p-th percentile (0 … 100) of unsorted values, nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function reasonsText(c: LoadCounters): string {
  return [...c.reasons].map(([r, n]) => `${r} ×${n}`).join(', ') || 'none';
}
