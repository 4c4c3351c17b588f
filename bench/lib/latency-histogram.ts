/**
 * Latency histogram at 1 µs resolution up to 1 s, plus a sorted overflow list.
 * autocannon's own histogram records whole milliseconds, which flattens every sub-ms p50 to 0 or 1,
 * so the load process records each response time here instead.
 * Serialised as sparse [µs, count] pairs so stages (k6-scenarios) can be merged in the parent.
 */
const LIMIT_US = 1_000_000;

export type SparseHistogram = Array<[number, number]>;

export class LatencyHistogram {
  private readonly counts = new Uint32Array(LIMIT_US);
  private readonly overflow: number[] = [];
  total = 0;

  record(ms: number): void {
    const us = Math.max(0, Math.round(ms * 1000));
    if (us < LIMIT_US) this.counts[us]++;
    else this.overflow.push(us);
    this.total++;
  }

  toSparse(): SparseHistogram {
    const out: SparseHistogram = [];
    for (let us = 0; us < LIMIT_US; us++) if (this.counts[us] !== 0) out.push([us, this.counts[us]]);
    const over = new Map<number, number>();
    for (const us of this.overflow) over.set(us, (over.get(us) ?? 0) + 1);
    for (const [us, n] of [...over].sort((a, b) => a[0] - b[0])) out.push([us, n]);
    return out;
  }
}

/** Merges sparse histograms (each sorted by µs) into one sorted sparse histogram. */
export function mergeSparse(parts: SparseHistogram[]): SparseHistogram {
  const acc = new Map<number, number>();
  for (const part of parts) for (const [us, n] of part) acc.set(us, (acc.get(us) ?? 0) + n);
  return [...acc].sort((a, b) => a[0] - b[0]);
}

/** The p-th percentile (0–100) in milliseconds; NaN when the histogram is empty. */
export function percentileMs(hist: SparseHistogram, p: number): number {
  let total = 0;
  for (const [, n] of hist) total += n;
  if (total === 0) return NaN;
  // (p * total) / 100, not (p / 100) * total: 99.9 / 100 * 1000 rounds to 999.0000000000001.
  const rank = Math.max(1, Math.ceil((p * total) / 100 - 1e-9));
  let seen = 0;
  for (const [us, n] of hist) {
    seen += n;
    if (seen >= rank) return us / 1000;
  }
  return hist[hist.length - 1][0] / 1000;
}
