/** Writes one run as bench/results/<YYYY-MM-DD>-<machine>.md (only under BENCH_RECORD=1). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CpuPlan } from './cpu-plan';
import type { ProxyKnobs } from './knobs';
import { machineTag, type Machine, type ToolVersions } from './machine';
import { markdownTable, ratiosTable, resultsTable, type Row } from './report';
import { REPO_ROOT } from './target';

export interface RunSummary {
  date: Date;
  machine: Machine;
  tools: ToolVersions;
  knobs: ProxyKnobs;
  upstreamImpl: string;
  rows: Row[];
  plans: Array<{ name: string; plan: CpuPlan }>;
  skipped: string[];
  failures: string[];
}

export function recordPath(s: RunSummary): string {
  const day = s.date.toISOString().slice(0, 10);
  return join(REPO_ROOT, 'bench', 'results', `${day}-${machineTag(s.machine)}.md`);
}

export function renderRecord(s: RunSummary): string {
  const m = s.machine;
  const k = s.knobs;
  const machine = markdownTable(
    ['', ''],
    [
      ['date', s.date.toISOString()],
      ['nproc', String(m.nproc)],
      ['CPU', m.cpuModel],
      ['memory', `${m.memoryGiB} GiB`],
      ['load average (1 min) at start', m.loadAvg1.toFixed(2)],
      ['kernel', m.kernel],
      ['node', m.node],
      ['uWS build', m.uws],
      ['upstream', s.upstreamImpl],
      ['autocannon', s.tools.autocannon],
      ['wrk', s.tools.wrk ?? 'not installed'],
      ['nginx', s.tools.nginx ?? 'not installed'],
      ['pinning', s.tools.taskset ? 'taskset -c' : 'none (taskset missing)'],
    ],
  );
  const layout = markdownTable(
    ['row', 'target cpus', 'upstream cpu', 'load generator cpu', 'overlap'],
    s.plans.map(({ name, plan }) => [name, plan.target, plan.upstream, plan.loadgen, plan.overlaps.join('; ') || 'none']),
  );
  const notes = [...s.skipped.map((x) => `- skipped: ${x}`), ...s.failures.map((x) => `- failed: ${x.split('\n')[0]}`)];
  return [
    `# Proxy throughput, ${s.date.toISOString().slice(0, 10)}, ${m.nproc}-core ${m.cpuModel}`,
    '',
    `Recorded by \`BENCH_RECORD=1 npm run bench\` (bench/proxy.ts). Duration ${k.durationS} s per tool after ${k.warmupS} s warm-up,`,
    `${k.connections} connections, pipelining ${k.pipelining}. See bench/README.md for what each row and ratio means.`,
    '',
    '## Machine',
    '',
    machine,
    '',
    '## CPU layout',
    '',
    layout,
    '',
    '## Results',
    '',
    resultsTable(s.rows),
    '',
    '## Ratios',
    '',
    ratiosTable(s.rows),
    '',
    ...(notes.length ? ['## Skipped / failed', '', ...notes, ''] : []),
  ].join('\n');
}

export function writeRecord(s: RunSummary): string {
  const file = recordPath(s);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, renderRecord(s));
  return file;
}
