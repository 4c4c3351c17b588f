/**
 * Runs wrk (one thread, pinned) and parses its --latency report, with its own CPU: wrk runs as a
 * child of this process, so its utime + stime are added to ours (cutime/cstime) when it exits
 * and is reaped. Lua scripts for pipelining and for a POST body.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinned, which } from './cpu-plan';
import { reapedChildrenCpuMs } from './core-busy';
import { spawnCaptured } from './processes';
import type { LoadResult, LoadSpec } from './load-autocannon';

export function wrkPath(): string | null {
  return which('wrk');
}

/** wrk pipelines only through a Lua script that returns N requests as one buffer. */
function pipelineScript(dir: string, depth: number): string {
  const file = join(dir, `pipeline-${depth}.lua`);
  writeFileSync(
    file,
    `init = function(args)\n  local r = {}\n  for i = 1, ${depth} do r[i] = wrk.format(nil) end\n  req = table.concat(r)\nend\nrequest = function() return req end\n`,
  );
  return file;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
}

export function parseWrk(out: string): LoadResult {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    return m ? durationMs(m[1]) : NaN;
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  if (!total) throw new Error(`unexpected wrk output:\n${out}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    durationS: durationMs(total[2] + total[3]) / 1000,
    errors: sock ? sock.slice(1).reduce((a, n) => a + Number(n), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    p50Ms: pct('50'),
    p99Ms: pct('99'),
  };
}

export interface WrkRun {
  url: string;
  connections: number;
  durationS: number;
  headers?: Record<string, string>;
  /** A Lua script file for wrk -s. */
  script?: string;
}

/** A wrk script that POSTs `bytes` bytes with every request. */
export function uploadScript(dir: string, bytes: number): string {
  const file = join(dir, `upload-${bytes}.lua`);
  writeFileSync(file, `wrk.method = "POST"\nwrk.body = string.rep("u", ${bytes})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`);
  return file;
}

export interface WrkOutcome extends LoadResult {
  /** wrk's own CPU (user + system) over its whole run, ms. */
  loadCpuMs: number;
}

export function runWrkScripted(spec: WrkRun, cpu: string): Promise<WrkOutcome> {
  const bin = wrkPath();
  if (!bin) return Promise.reject(new Error('wrk not installed'));
  const args = ['-t1', `-c${spec.connections}`, `-d${spec.durationS}s`, '--latency', '--timeout', '10s'];
  if (spec.script) args.push('-s', spec.script);
  for (const [name, value] of Object.entries(spec.headers ?? {})) args.push('-H', `${name}: ${value}`);
  const [cmd, full] = pinned(cpu, bin, [...args, spec.url]);
  const cpu0 = reapedChildrenCpuMs();
  const proc = spawnCaptured(cmd, full);
  return new Promise((resolve, reject) => {
    proc.child.once('error', reject);
    proc.child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${proc.output()}`));
      try {
        // 'exit' fires after libuv reaped the child, so its CPU is in cutime by now.
        resolve({ ...parseWrk(proc.output()), loadCpuMs: reapedChildrenCpuMs() - cpu0 });
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** A LoadSpec run (pipelining through pipelineScript), wrk's own CPU left out. */
export async function runWrk(spec: LoadSpec, cpu: string, scratchDir: string): Promise<LoadResult> {
  const script = spec.pipelining > 1 ? pipelineScript(scratchDir, spec.pipelining) : undefined;
  const { loadCpuMs: _cpu, ...result } = await runWrkScripted({ url: spec.url, connections: spec.connections, durationS: spec.durationS, headers: spec.headers, script }, cpu);
  return result;
}
