/**
 * Interleaved rounds (every row measured once per round): medians, and ratios taken within one
 * round so that two rows compare numbers measured minutes apart on the same machine state.
 */
export interface RoundSample {
  key: string;
  round: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

/** Median over rounds of f(row a) / f(row b) in the same round; NaN when no round has both. */
export function sameRoundRatio<S extends RoundSample>(samples: readonly S[], rounds: number, a: string, b: string, f: (s: S) => number): number {
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const x = samples.find((s) => s.key === a && s.round === round);
    const y = samples.find((s) => s.key === b && s.round === round);
    if (x && y) ratios.push(f(x) / f(y));
  }
  return median(ratios.filter(Number.isFinite));
}
