// A feature that is not configured costs nothing: loading a role's code loads none of the packages
// that only some configurations use (src/lib/optional-packages.ts). Each was ~0.1 s of a worker's
// or the primary's start; a value import of one of them brings it back, and this fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const SRC = path.resolve(__dirname, '..', '..', '..', 'src');

/** The packages under node_modules that requiring `entry` loads, in a fresh process. */
function packagesLoadedBy(entry: string): string[] {
  const script = `require(${JSON.stringify(entry)});
    const names = new Set();
    for (const f of Object.keys(require.cache)) {
      const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(f);
      if (m) names.add(m[1]);
    }
    process.stdout.write(JSON.stringify([...names].sort()));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
}

test("a worker's code loads undici, ioredis, ws and jose only when a feature asks for them", () => {
  const loaded = packagesLoadedBy(path.join(SRC, 'worker', 'index.js'));
  for (const name of ['undici', 'ioredis', 'ws', 'jose']) assert.ok(!loaded.includes(name), `${name} loaded: ${loaded.join(', ')}`);
  // What it does need is loaded (the check sees packages at all).
  assert.ok(loaded.includes('msgpackr') && loaded.includes('shm-typed-array'), loaded.join(', '));
});

test("the primary's code loads yaml, prom-client and piscina only when a feature asks for them", () => {
  const loaded = packagesLoadedBy(path.join(SRC, 'primary', 'cli.js'));
  for (const name of ['yaml', 'prom-client', 'piscina', 'undici', 'ioredis', 'pg']) assert.ok(!loaded.includes(name), `${name} loaded: ${loaded.join(', ')}`);
  assert.ok(loaded.includes('msgpackr'), loaded.join(', '));
});

test('each getter loads its package once and gives the same module', () => {
  const script = `const o = require(${JSON.stringify(path.join(SRC, 'lib', 'optional-packages.js'))});
    const out = {};
    for (const k of ['undici', 'ioredis', 'ws', 'jose', 'promClient', 'yaml', 'piscina']) out[k] = o[k]() === o[k]() && o[k]() != null;
    out.redisIsClass = typeof o.ioredis() === 'function' && typeof o.ioredis().prototype.defineCommand === 'function';
    out.wsIsClass = typeof o.ws() === 'function' && o.ws().OPEN === 1;
    out.registry = typeof o.promClient().Registry === 'function';
    process.stdout.write(JSON.stringify(out));`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as Record<string, boolean>;
  for (const [k, v] of Object.entries(out)) assert.equal(v, true, k);
});
