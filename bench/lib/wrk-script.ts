/**
 * wrk with an optional Lua script (a POST body), and its own CPU: wrk runs as a child of this
 * process, so its utime + stime are added to ours (cutime/cstime) when it exits and is reaped.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinned } from './cpu-plan';
import { reapedChildrenCpuMs } from './core-busy';
import { parseWrk, wrkPath } from './load-wrk';
import { spawnCaptured } from './processes';
import type { LoadResult } from './load-autocannon';

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
