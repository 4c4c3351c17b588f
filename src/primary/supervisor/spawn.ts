/**
 * Forks one worker process. Workers run the same entry (dist/src/main.js) with
 * HYPERWAY_ROLE=worker; IPC uses 'advanced' serialization so msgpackr buffers travel as bytes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Settings } from '../../shared/settings';

export const MAIN_ENTRY = path.resolve(__dirname, '..', '..', 'main.js');

/**
 * uWS reads UWS_HTTP_MAX_HEADERS_SIZE once, when its binary loads (default 4 KiB): a head that
 * arrives in more than one read and outgrows it is dropped without an answer. Twice the
 * gateway's own limit lets every head up to that size reach the handler, which answers Kong's
 * 400 above `large_client_header_buffers`; only heads over twice the limit are cut by uWS.
 */
export function uwsMaxHeadersSize(settings: Pick<Settings, 'largeClientHeaderBuffers'>): number {
  const b = settings.largeClientHeaderBuffers;
  return 2 * b.count * b.size;
}

export function forkWorker(id: number, shmName: string, settings: Settings, codeId: string): ChildProcess {
  return fork(MAIN_ENTRY, [], {
    env: {
      ...process.env,
      HYPERWAY_ROLE: 'worker',
      HYPERWAY_CODE_ID: codeId,
      HYPERWAY_WORKER_ID: String(id),
      HYPERWAY_SHM: shmName,
      HYPERWAY_LOG_LEVEL: settings.logLevel,
      UWS_HTTP_MAX_HEADERS_SIZE: String(uwsMaxHeadersSize(settings)),
    },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}
