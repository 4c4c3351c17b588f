/** Environment knobs shared by bench/proxy.ts and bench/k6-scenarios.ts. */
export function numberEnv(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/s$/, ''));
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}=${raw}: expected a number ≥ ${min}`);
  return n;
}

export interface ProxyKnobs {
  durationS: number;
  connections: number;
  pipelining: number;
  warmupS: number;
  record: boolean;
}

export function proxyKnobs(): ProxyKnobs {
  return {
    durationS: numberEnv('BENCH_DURATION', 10, 1),
    connections: Math.floor(numberEnv('BENCH_CONNECTIONS', 64, 1)),
    pipelining: Math.floor(numberEnv('BENCH_PIPELINING', 1, 1)),
    warmupS: numberEnv('BENCH_WARMUP', 3, 0),
    record: process.env.BENCH_RECORD === '1',
  };
}
