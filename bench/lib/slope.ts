/**
 * Least-squares line through memory samples, for the soak: a leak shows as a positive RSS slope
 * that persists after warm-up, where a healthy process's RSS wanders around a plateau.
 */
export interface Fit {
  /** y units per x unit. */
  slope: number;
  intercept: number;
  /** Coefficient of determination, 0 … 1 (NaN when y never moves). */
  r2: number;
  n: number;
}

/** Ordinary least squares y = intercept + slope·x; NaN slope with fewer than 2 distinct x. */
export function leastSquares(xs: readonly number[], ys: readonly number[]): Fit {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return { slope: NaN, intercept: NaN, r2: NaN, n };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    const dy = ys[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return { slope: NaN, intercept: NaN, r2: NaN, n };
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? NaN : (sxy * sxy) / (sxx * syy), n };
}

export interface MemSample {
  /** Seconds since the load started. */
  t: number;
  rssBytes: number;
  /** V8 heapUsed when the process reported it (bench/lib/heap-probe.ts), else null. */
  heapUsedBytes: number | null;
}

export interface SlopeReport {
  /** Samples with t ≥ warm-up that the fit used. */
  n: number;
  rssMiBPerHour: number;
  rssR2: number;
  heapMiBPerHour: number;
  /** RSS at the first and the last sample after warm-up, MiB. */
  rssFirstMiB: number;
  rssLastMiB: number;
  rssMaxMiB: number;
}

const MIB = 1024 * 1024;

/** RSS and heap slopes in MiB per hour over the samples taken at or after `warmupS`. */
export function memorySlope(samples: readonly MemSample[], warmupS: number): SlopeReport {
  const kept = samples.filter((s) => s.t >= warmupS);
  const hours = kept.map((s) => s.t / 3600);
  const rss = leastSquares(hours, kept.map((s) => s.rssBytes / MIB));
  const withHeap = kept.filter((s) => s.heapUsedBytes !== null);
  const heap = leastSquares(withHeap.map((s) => s.t / 3600), withHeap.map((s) => (s.heapUsedBytes as number) / MIB));
  return {
    n: kept.length,
    rssMiBPerHour: rss.slope,
    rssR2: rss.r2,
    heapMiBPerHour: heap.slope,
    rssFirstMiB: kept.length ? kept[0].rssBytes / MIB : NaN,
    rssLastMiB: kept.length ? kept[kept.length - 1].rssBytes / MIB : NaN,
    rssMaxMiB: kept.length ? kept.reduce((m, s) => Math.max(m, s.rssBytes / MIB), 0) : NaN,
  };
}
