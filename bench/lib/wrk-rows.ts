/**
 * The route-per-row wrk benches (balancers.ts, plugins.ts): each case is a path (and headers) on
 * a named target, measured with wrk in interleaved rounds; one table of medians with same-round
 * ratios against a reference row, the goal lines, and BENCH_RECORD=1's file.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTaskset } from './cpu-plan';
import { numberEnv } from './knobs';
import { wrkPath } from './load-wrk';
import { describeMachine, machineTag, toolVersions, type Machine } from './machine';
import { sleep } from './processes';
import { markdownTable } from './report';
import { median, measureRow, sameRoundRatio, type WrkSample } from './rounds';
import { REPO_ROOT, type Target } from './target';
import { nginxPath } from './target-nginx';

export interface WrkCase<T extends string = string> {
  key: string;
  /** Key of the target in the map given to measureCases. */
  target: T;
  path: string;
  headers: Record<string, string>;
}

export interface WrkRowsRun {
  wrk: string;
  /** BENCH_DURATION (s, 10), BENCH_CONNECTIONS (64), BENCH_ROUNDS (3). */
  durationS: number;
  connections: number;
  rounds: number;
  machine: Machine;
  scratchDir: string;
}

/** wrk's path and the shared knobs, the machine line printed, a scratch folder made; null (said why) without wrk. */
export function startWrkRows(): WrkRowsRun | null {
  const wrk = wrkPath();
  if (!wrk) {
    console.error('wrk is required (apt-get install wrk)');
    return null;
  }
  const run: WrkRowsRun = {
    wrk,
    durationS: numberEnv('BENCH_DURATION', 10, 1),
    connections: numberEnv('BENCH_CONNECTIONS', 64, 1),
    rounds: numberEnv('BENCH_ROUNDS', 3, 1),
    machine: describeMachine(),
    scratchDir: mkdtempSync(join(tmpdir(), 'hyperway-bench-')),
  };
  const m = run.machine;
  console.log(`machine: ${m.nproc} cpu ${m.cpuModel}, node ${m.node}, uWS ${m.uws}, load ${m.loadAvg1.toFixed(2)}`);
  return run;
}

export interface CaseRounds<C extends WrkCase> {
  warmupS: number;
  loadCpu: string;
  /** Cases not to run (a knob left them out, a dependency is missing). */
  skip?: (c: C) => boolean;
  /** After each measured case (e.g. truncating a log it grew). */
  after?: (c: C) => void;
}

/** Every case whose target is running, once per round, in order; samples as they land. */
export async function measureCases<C extends WrkCase>(run: WrkRowsRun, cases: readonly C[], targets: ReadonlyMap<string, Target>, o: CaseRounds<C>): Promise<WrkSample[]> {
  const samples: WrkSample[] = [];
  for (let round = 1; round <= run.rounds; round++) {
    for (const c of cases) {
      const target = targets.get(c.target);
      if (!target || o.skip?.(c)) continue;
      const spec = { key: c.key, round, url: new URL(c.path, target.url).toString(), headers: c.headers, connections: run.connections, durationS: run.durationS, warmupS: o.warmupS };
      samples.push(await measureRow(spec, target, o.loadCpu, run.scratchDir));
      o.after?.(c);
      await sleep(200);
    }
  }
  return samples;
}

/** Medians per case (in case order, measured ones only) and same-round ratios of RPS and CPU against `against(key)`, headed "× label". */
export function wrkRowsTable(run: WrkRowsRun, cases: readonly WrkCase[], samples: readonly WrkSample[], label: string, against: (key: string) => string): string {
  const keys = cases.map((c) => c.key).filter((k) => samples.some((s) => s.key === k));
  const ratio = (a: string, b: string, f: (s: WrkSample) => number): number => sameRoundRatio(samples, run.rounds, a, b, f);
  return markdownTable(
    ['route', 'median RPS', 'p50 ms', 'p99 ms', 'CPU-µs/req', `RPS × ${label}`, `CPU × ${label}`, 'non-2xx'],
    keys.map((k) => {
      const mine = samples.filter((s) => s.key === k);
      return [
        k,
        median(mine.map((s) => s.rps)).toFixed(0),
        median(mine.map((s) => s.p50Ms)).toFixed(2),
        median(mine.map((s) => s.p99Ms)).toFixed(2),
        median(mine.map((s) => s.cpuUsPerReq)).toFixed(1),
        ratio(k, against(k), (s) => s.rps).toFixed(3),
        ratio(k, against(k), (s) => s.cpuUsPerReq).toFixed(3),
        String(mine.reduce((a, s) => a + s.non2xx + s.errors, 0)),
      ];
    }),
  );
}

export interface WrkRowsReport {
  /** bench/results/<date>-<machine>-<bench>.md, and `npm run bench:<bench>`. */
  bench: string;
  title: string;
  /** Where the target, upstreams and wrk ran, for the record. */
  layout: string;
  table: string;
  goals: string[];
  samples: readonly WrkSample[];
}

/** Prints the table and goals; with BENCH_RECORD=1 also writes them and every run to bench/results. */
export function reportWrkRows(run: WrkRowsRun, r: WrkRowsReport): void {
  console.log(`\n${r.table}\n\n${r.goals.join('\n')}`);
  if (process.env.BENCH_RECORD !== '1') return;
  const m = run.machine;
  const day = new Date().toISOString().slice(0, 10);
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${day}-${machineTag(m)}-${r.bench}.md`);
  const tools = toolVersions(run.wrk, nginxPath(), hasTaskset());
  const raw = markdownTable(['round', 'route', 'RPS', 'p50 ms', 'p99 ms', 'CPU-µs/req', 'non-2xx', 'errors'],
    r.samples.map((s) => [String(s.round), s.key, s.rps.toFixed(0), s.p50Ms.toFixed(2), s.p99Ms.toFixed(2), s.cpuUsPerReq.toFixed(1), String(s.non2xx), String(s.errors)]));
  writeFileSync(file, `# ${r.title}, ${new Date().toISOString()}\n\n` +
    `Machine: ${m.nproc} cpu ${m.cpuModel}, ${m.memoryGiB} GiB, kernel ${m.kernel}, node ${m.node}, uWS ${m.uws}; wrk ${tools.wrk ?? 'n/a'}.\n` +
    `${r.layout} ` +
    `${run.rounds} interleaved rounds of ${run.durationS}s after 2s of warm-up each; ratios are medians of same-round ratios. \`npm run bench:${r.bench}\`.\n\n` +
    `${r.table}\n\n${r.goals.map((g) => `- ${g}`).join('\n')}\n\n## Every run\n\n${raw}\n`);
  console.log(`\nrecorded ${file}`);
}
