/** What BENCH_RECORD=1 writes for the stack and latency benches: bench/results/<date>-<machine>-<bench>.{json,md}. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineTag, type Machine } from './machine';
import { markdownTable } from './report';
import { REPO_ROOT } from './target';

export interface StackRecord {
  /** bench/<bench>.ts, `npm run bench:<bench>`, the files' suffix. */
  bench: string;
  /** The markdown's heading, before the date. */
  title: string;
  date: Date;
  machine: Machine;
  /** After "Recorded by …": the machine, in words. */
  machineLine: string;
  versions: Record<string, string | null>;
  /** The JSON's fields after date, machine and versions. */
  json: Record<string, unknown>;
  /** The markdown between the versions table and "## Every run", a line each. */
  body: string[];
  /** The table of every run. */
  raw: string;
}

export function writeStackRecord(r: StackRecord): void {
  const base = join(REPO_ROOT, 'bench', 'results', `${r.date.toISOString().slice(0, 10)}-${machineTag(r.machine)}-${r.bench}`);
  mkdirSync(join(base, '..'), { recursive: true });
  writeFileSync(`${base}.json`, JSON.stringify({ date: r.date.toISOString(), machine: r.machine, versions: r.versions, ...r.json }, null, 1) + '\n');
  writeFileSync(`${base}.md`, [
    `# ${r.title}, ${r.date.toISOString()}`,
    '',
    `Recorded by \`BENCH_RECORD=1 npm run bench:${r.bench}\` (bench/${r.bench}.ts). ${r.machineLine}`,
    '',
    markdownTable(['', ''], Object.entries(r.versions).map(([k, v]) => [k, v ?? 'n/a'])),
    '',
    ...r.body,
    '## Every run',
    '',
    r.raw,
    '',
  ].join('\n'));
  console.log(`recorded ${base}.md and .json`);
}
