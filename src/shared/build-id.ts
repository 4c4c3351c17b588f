/**
 * The identity of the code a process runs: the protocol version, Hyperway's version and a digest
 * of every compiled module under dist/src. Workers fork the code on disk, so after an in-place
 * upgrade (new files under a running primary) a replacement worker would run other code than its
 * primary, speaking a protocol and reading a Snapshot shape the primary may not share. The primary
 * computes its id once at start and hands it to each worker; a worker whose own id differs
 * refuses to serve. Read once per process start (about 20 ms), never per request.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { HYPERWAY_VERSION } from './version';

/** Bumped when the IPC messages or the Snapshot change shape. */
export const PROTOCOL_VERSION = 1;

const ROOT = path.resolve(__dirname, '..');

function modules(dir: string, out: string[]): string[] {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) modules(p, out);
    else if (e.name.endsWith('.js')) out.push(p);
  }
  return out;
}

let cached: string | null = null;

/** `<protocol>/<version>/<digest>`: equal only for processes running the same build. */
export function codeId(): string {
  if (cached !== null) return cached;
  const h = createHash('sha256');
  for (const file of modules(ROOT, [])) {
    h.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  cached = `${PROTOCOL_VERSION}/${HYPERWAY_VERSION}/${h.digest('hex').slice(0, 16)}`;
  return cached;
}
