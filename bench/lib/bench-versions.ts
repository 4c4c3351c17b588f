/** Versions of everything a stack or latency run measured, for its record. */
import { spawnSync } from 'node:child_process';
import { loadUws } from '../../src/worker/server/uws';

function firstLine(cmd: string, args: string[]): string | null {
  // wrk -v exits 1, nginx -v prints to stderr: read both streams whatever the status.
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0].replace(/\s+Copyright.*$/, '');
  return text || null;
}

export function stackVersions(wrk: string | null, nginx: string | null, haproxy: string | null): Record<string, string | null> {
  let uws: string;
  try {
    const l = loadUws();
    uws = `${l.source}@${l.version}`;
  } catch (err) {
    uws = `none (${String(err).split('\n')[0]})`;
  }
  return {
    node: process.version,
    uws,
    undici: (require('undici/package.json') as { version: string }).version,
    wrk: wrk ? firstLine(wrk, ['-v']) : null,
    nginx: nginx ? firstLine(nginx, ['-v']) : null,
    haproxy: haproxy ? firstLine(haproxy, ['-v']) : null,
  };
}
