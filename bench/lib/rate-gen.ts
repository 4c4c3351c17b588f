/**
 * A constant-arrival-rate HTTP/1.1 load generator (wrk2's model; wrk2 is not packaged by Debian),
 * run as its own pinned process: request i is due at t0 + i / rate whatever happened to earlier
 * ones. Due requests go out on an idle keep-alive connection; when none is idle they wait, and
 * their wait counts (latency is also reported from the due time, "corrected", as wrk2 does, so a
 * stalled target cannot hide behind coordinated omission) and `queued` says how many waited: the
 * target, not the generator, fell behind. Node's timers tick at 1 ms, so requests leave in
 * per-millisecond batches: `lag` (send time − due time of requests that found a connection) says
 * how well the generator kept the rate, and its own CPU is reported with every run.
 *
 * Input: one JSON argument (RateSpec). Output: one JSON line (RateOutcome).
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ResponseReader } from './http-response-reader';
import { LatencyHistogram, type SparseHistogram } from './latency-histogram';
import { runJsonChild } from './processes';
import { REPO_ROOT } from './target';

export interface RateSpec {
  host: string;
  port: number;
  path: string;
  headers?: Record<string, string>;
  /** Requests per second. */
  rate: number;
  durationS: number;
  /** Seconds at the same rate before measuring (not recorded). */
  warmupS: number;
  connections: number;
}

export interface RateOutcome {
  rate: number;
  /** Requests due in the measured window, and those of them that completed. */
  due: number;
  completed: number;
  errors: number;
  non2xx: number;
  /** Requests that found no idle connection when due. */
  queued: number;
  /** Connections the target closed mid-run, each replaced by a new one. */
  reconnects: number;
  /** Completed measured requests / measured window. */
  achievedRate: number;
  /** The generator's own CPU over the whole run (warm-up included), ms, and the run's wall time. */
  cpuMs: number;
  wallMs: number;
  /** From the write to the last response byte. */
  service: SparseHistogram;
  /** From the due time to the last response byte. */
  corrected: SparseHistogram;
  /** Write time − due time of the requests that found an idle connection: the generator's own delay (timer batching, CPU). */
  lag: SparseHistogram;
}

interface Conn {
  socket: Socket;
  reader: ResponseReader;
  due: number;
  sent: number;
  measured: boolean;
  busy: boolean;
  /** The socket connected (a replacement that never did is not replaced at once). */
  connected: boolean;
}

export function runRate(spec: RateSpec): Promise<RateOutcome> {
  const head = [`GET ${spec.path} HTTP/1.1`, `Host: ${spec.host}:${spec.port}`, ...Object.entries(spec.headers ?? {}).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  const request = Buffer.from(head, 'latin1');
  const service = new LatencyHistogram();
  const corrected = new LatencyHistogram();
  const lag = new LatencyHistogram();
  const intervalMs = 1000 / spec.rate;
  const warmupN = Math.round(spec.warmupS * spec.rate);
  const totalN = warmupN + Math.round(spec.durationS * spec.rate);
  const idle: Conn[] = [];
  const waiting: Array<{ due: number; measured: boolean }> = [];
  let next = 0;
  let completed = 0;
  let settled = 0;
  let errors = 0;
  let non2xx = 0;
  let queued = 0;
  let t0 = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();

  return new Promise((resolve, reject) => {
    let finished = false;
    let reconnects = 0;
    let giveUp: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(giveUp);
      for (const c of conns) c.socket.destroy();
      const cpu = process.cpuUsage(cpu0);
      const due = totalN - warmupN;
      resolve({
        rate: spec.rate,
        due,
        completed,
        errors,
        non2xx,
        queued,
        reconnects,
        achievedRate: completed / spec.durationS,
        cpuMs: (cpu.user + cpu.system) / 1000,
        wallMs: performance.now() - wall0,
        service: service.toSparse(),
        corrected: corrected.toSparse(),
        lag: lag.toSparse(),
      });
    };
    const send = (c: Conn, due: number, measured: boolean, now: number): void => {
      c.due = due;
      c.sent = now;
      c.measured = measured;
      c.busy = true;
      c.socket.write(request);
    };
    const settle = (): void => {
      settled++;
      if (settled === totalN) finish();
    };
    const onResponse = (c: Conn, status: number): void => {
      const now = performance.now();
      c.busy = false;
      if (c.measured) {
        completed++;
        if (status < 200 || status >= 300) non2xx++;
        service.record(now - c.sent);
        corrected.record(now - c.due);
      }
      settle();
      const w = waiting.shift();
      if (w) send(c, w.due, w.measured, now);
      else idle.push(c);
    };
    const tick = (): void => {
      if (finished) return;
      const now = performance.now();
      while (next < totalN && t0 + next * intervalMs <= now) {
        const due = t0 + next * intervalMs;
        const measured = next >= warmupN;
        next++;
        const c = idle.pop();
        if (c) {
          if (measured) lag.record(now - due);
          send(c, due, measured, now);
        } else {
          if (measured) queued++;
          waiting.push({ due, measured });
        }
      }
      if (next < totalN) setTimeout(tick, Math.max(0, t0 + next * intervalMs - performance.now()));
    };
    const conns: Conn[] = [];
    let open = 0;
    const connectOne = (): void => {
      const socket = connect({ host: spec.host, port: spec.port, noDelay: true });
      const c: Conn = { socket, reader: new ResponseReader(), due: 0, sent: 0, measured: false, busy: false, connected: false };
      conns.push(c);
      const deliver = (status: number): void => onResponse(c, status);
      socket.on('data', (chunk: Buffer) => {
        try {
          c.reader.feed(chunk, deliver);
        } catch {
          socket.destroy(new Error('unframeable response'));
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        const i = idle.indexOf(c);
        if (i >= 0) idle.splice(i, 1);
        if (c.busy) {
          c.busy = false;
          if (c.measured) errors++;
          settle();
        }
        if (open < spec.connections) return reject(new Error(`cannot connect to ${spec.host}:${spec.port}`));
        // A connection lost mid-run is replaced, so that what waits for one is served (and the
        // event loop never runs dry with requests still due: the process would exit without a result).
        const k = conns.indexOf(c);
        if (k >= 0) conns.splice(k, 1);
        if (finished) return;
        if (c.connected) {
          reconnects++;
          connectOne();
        } else {
          // The target refuses a replacement (it is down): try again in a while, not in a loop.
          setTimeout(() => {
            if (!finished) connectOne();
          }, 100);
        }
      });
      socket.once('connect', () => {
        c.connected = true;
        if (open < spec.connections) {
          idle.push(c);
          if (++open === spec.connections) {
            t0 = performance.now();
            tick();
          }
          return;
        }
        const w = waiting.shift();
        if (w) send(c, w.due, w.measured, performance.now());
        else idle.push(c);
      });
    };
    for (let i = 0; i < spec.connections; i++) connectOne();
    // Everything due has had its chance: give up on the stragglers 10 s after the last due time.
    giveUp = setTimeout(() => {
      errors += totalN - settled;
      finish();
    }, (spec.warmupS + spec.durationS + 10) * 1000 + 2000);
  });
}

if (require.main === module) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as RateSpec;
  runRate(spec).then(
    (out) => {
      // stdout is a pipe (asynchronous on POSIX): exit only once the whole line has been taken,
      // or a long histogram is cut.
      process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
    },
    (err: unknown) => {
      process.stderr.write(`rate-gen: ${String(err)}\n`);
      process.exit(1);
    },
  );
}

/** Runs the generator as its own process pinned to `cpu` (so its CPU is its own and it never shares the proxy's core). */
export function runRatePinned(spec: RateSpec, cpu: string): Promise<RateOutcome> {
  return runJsonChild<RateOutcome>('rate-gen', cpu, join(REPO_ROOT, 'dist', 'bench', 'lib', 'rate-gen.js'), spec, 500);
}
