/**
 * Forks one worker process. Workers run the same entry (dist/src/main.js) with
 * HYPERWAY_ROLE=worker; IPC uses 'advanced' serialization so msgpackr buffers travel as bytes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const MAIN_ENTRY = path.resolve(__dirname, '..', '..', 'main.js');

export function forkWorker(id: number, shmName: string, logLevel: string): ChildProcess {
  return fork(MAIN_ENTRY, [], {
    env: {
      ...process.env,
      HYPERWAY_ROLE: 'worker',
      HYPERWAY_WORKER_ID: String(id),
      HYPERWAY_SHM: shmName,
      HYPERWAY_LOG_LEVEL: logLevel,
    },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}
