/**
 * k6 load profile for a Hyperway gateway: ramps 50 → 100 → 200 virtual users, then down.
 * Run (k6 ≥ 0.57 runs TypeScript directly):
 *   k6 run -e BASE_URL=http://127.0.0.1:8000 k6/load.ts
 * Env: BASE_URL (required), PATH_ (request path, default "/"), STAGE_DURATION (default "30s"),
 * THINK_TIME (seconds between a VU's requests, default 0: closed loop, like autocannon).
 * bench/k6-scenarios.ts replays the same stages and thresholds with autocannon where k6 is absent.
 * Typecheck: npx tsc -p k6/tsconfig.json
 */
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

const BASE_URL = (__ENV.BASE_URL ?? '').replace(/\/+$/, '');
const PATH = __ENV.PATH_ ?? '/';
const STAGE = __ENV.STAGE_DURATION ?? '30s';
const THINK_TIME = Number(__ENV.THINK_TIME ?? '0');

/** The stage targets and thresholds bench/k6-scenarios.ts mirrors; keep the two in step. */
export const options: Options = {
  stages: [
    { duration: STAGE, target: 50 },
    { duration: STAGE, target: 100 },
    { duration: STAGE, target: 200 },
    { duration: '10s', target: 0 },
  ],
  thresholds: {
    http_req_duration: ['p(95)<500'],
    http_req_failed: ['rate<0.01'],
  },
};

export function setup(): void {
  if (!BASE_URL) throw new Error('BASE_URL is required: k6 run -e BASE_URL=http://127.0.0.1:8000 k6/load.ts');
}

export default function (): void {
  const res = http.get(`${BASE_URL}${PATH}`);
  check(res, { 'status is 2xx': (r) => r.status >= 200 && r.status < 300 });
  if (THINK_TIME > 0) sleep(THINK_TIME);
}
