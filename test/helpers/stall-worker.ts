/**
 * Preloaded into a test gateway's processes (NODE_OPTIONS=--require, see stallEnv) to make a
 * worker hang the ways a real one can, which no signal from outside reproduces (the supervisor
 * sends SIGCONT to a stopped worker): stuck before it listens (a module load that never returns),
 * or its event loop blocked later. Only worker processes act on it, and only when
 * HW_TEST_STALL_DIR names a folder the test created:
 * - a file `hang-next-start` there: the next worker to start takes it (a rename, so only one does),
 *   leaves `hung-at-start.<pid>`, and hangs before any Hyperway code runs;
 * - SIGUSR2: the worker leaves `stuck.<pid>` and blocks its event loop.
 * Hangs end after STALL_MS, so a hung worker does not outlive a crashed test run for long.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const STALL_MS = 90_000;

/** Environment for startGateway that preloads this file with `dir` as its folder. */
export function stallEnv(dir: string): Record<string, string> {
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${resolve(__filename)}`.trim(), HW_TEST_STALL_DIR: dir };
}

function block(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, STALL_MS);
}

const dir = process.env.HW_TEST_STALL_DIR;
if (dir !== undefined && dir !== '' && process.env.HYPERWAY_ROLE === 'worker') {
  let claimed = false;
  try {
    renameSync(join(dir, 'hang-next-start'), join(dir, `hung-at-start.${process.pid}`));
    claimed = true;
  } catch {
    // not asked to hang, or another worker took it
  }
  if (claimed) block();
  process.on('SIGUSR2', () => {
    writeFileSync(join(dir, `stuck.${process.pid}`), '');
    block();
  });
}
