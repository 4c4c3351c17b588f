/**
 * Child-process entry that drives one autocannon run, so the load generator can be pinned with
 * taskset to a core of its own (see lib/cpu-plan.ts). Input: one JSON argument (LoadSpec).
 * Output: one JSON line on stdout (LoadOutcome); autocannon's progress output is suppressed.
 */
import autocannon = require('autocannon');
import { LatencyHistogram, type SparseHistogram } from './lib/latency-histogram';

export interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  pipelining: number;
  /** Extra request headers (wrk only: `-H name: value`). */
  headers?: Record<string, string>;
}

export interface LoadOutcome {
  requests: number;
  durationS: number;
  /** Socket errors and timeouts: k6 counts these as failed requests. */
  errors: number;
  /** Responses with status outside 200–399 (k6's http_req_failed definition). */
  failedStatus: number;
  non2xx: number;
  latency: SparseHistogram;
}

function run(spec: LoadSpec): Promise<LoadOutcome> {
  const hist = new LatencyHistogram();
  let failedStatus = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: spec.url, connections: spec.connections, duration: spec.durationS, pipelining: spec.pipelining, timeout: 10 },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          requests: hist.total,
          durationS: result.duration,
          errors: result.errors + result.timeouts,
          failedStatus,
          non2xx: result.non2xx,
          latency: hist.toSparse(),
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      hist.record(responseTimeMs);
      if (statusCode < 200 || statusCode >= 400) failedStatus++;
    });
  });
}

if (require.main === module) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
  run(spec).then(
    (outcome) => process.stdout.write(JSON.stringify(outcome) + '\n'),
    (err: unknown) => {
      process.stderr.write(`load-worker: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
