/** Turns measurements into the results table and the Hyperway/direct and Hyperway/nginx ratios. */
export interface Row {
  key: string;
  target: string;
  tool: 'autocannon' | 'wrk';
  workers: number;
  cpus: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
  /** Target CPU (utime + stime of its whole process tree) per request. */
  cpuMsPerReq: number;
  /** Share of the target's CPU spent in Hyperway's primary / nginx's master; null for direct. */
  rootCpuShare: number | null;
  /** Upstream CPU per request; null for the direct row, where the upstream is the target. */
  upstreamCpuMsPerReq: number | null;
}

const fmt = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** A markdown table with padded columns, readable both in a terminal and rendered. */
export function markdownTable(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export function resultsTable(rows: Row[]): string {
  return markdownTable(
    ['target', 'tool', 'workers', 'cpus', 'RPS', 'p50 ms', 'p99 ms', 'CPU-ms/req', 'primary %', 'upstream CPU-ms/req', 'errors', 'non-2xx'],
    rows.map((r) => [
      r.target,
      r.tool,
      String(r.workers),
      r.cpus,
      fmt(r.rps, 0),
      fmt(r.p50Ms, 3),
      fmt(r.p99Ms, 3),
      fmt(r.cpuMsPerReq, 4),
      r.rootCpuShare === null ? '-' : fmt(r.rootCpuShare * 100, 1),
      r.upstreamCpuMsPerReq === null ? '-' : fmt(r.upstreamCpuMsPerReq, 4),
      String(r.errors),
      String(r.non2xx),
    ]),
  );
}

interface Pair {
  label: string;
  num: string;
  den: string;
}

const PAIRS: Pair[] = [
  { label: 'Hyperway 1 worker / direct', num: 'hyperway-1', den: 'direct' },
  { label: 'Hyperway all cores / direct', num: 'hyperway-all', den: 'direct' },
  { label: 'Hyperway 1 worker / nginx 1 worker', num: 'hyperway-1', den: 'nginx-1' },
  { label: 'Hyperway all cores / nginx auto', num: 'hyperway-all', den: 'nginx-auto' },
];

/**
 * RPS ratio > 1 means Hyperway is faster; p99 and CPU-ms/req ratios > 1 mean Hyperway is slower or
 * costlier. Pairs whose rows are missing (nginx absent, a target failed) are left out.
 */
export function ratiosTable(rows: Row[]): string {
  const body: string[][] = [];
  for (const tool of ['autocannon', 'wrk'] as const) {
    for (const pair of PAIRS) {
      const a = rows.find((r) => r.tool === tool && r.key === pair.num);
      const b = rows.find((r) => r.tool === tool && r.key === pair.den);
      if (!a || !b) continue;
      body.push([pair.label, tool, fmt(a.rps / b.rps, 2), fmt(a.p99Ms / b.p99Ms, 2), fmt(a.cpuMsPerReq / b.cpuMsPerReq, 2)]);
    }
  }
  if (body.length === 0) return '(no ratios: a Hyperway row or its baseline is missing)';
  return markdownTable(['ratio', 'tool', 'RPS', 'p99', 'CPU-ms/req'], body);
}
