import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { killGroupAndWait, trackGroup, untrackGroup } from './proc';
import { startRawServer } from './raw-server';

/**
 * - `hang`: accept, read the request, never answer (read timeout → 504).
 * - `reset-before-response`: reset the connection as soon as request bytes arrive (→ 502).
 * - `reset-mid-body`: send a 200 head announcing `announcedBytes`, then `sentBytes` of body, then RST.
 */
/** hang: reads, never answers; no-read: never reads a byte (the request's bytes pile up in TCP). */
export type FaultMode = 'hang' | 'no-read' | 'reset-before-response' | 'reset-mid-body';

export interface FaultServer {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export const MID_BODY = { announcedBytes: 1_000_000, sentBytes: 64 * 1024 } as const;

export async function startFaultServer(mode: FaultMode): Promise<FaultServer> {
  let accepted = 0;
  const server = await startRawServer((sock) => {
    accepted++;
    if (mode === 'no-read') {
      sock.pause();
      return;
    }
    let head = '';
    let answered = false;
    sock.on('data', (c: Buffer) => {
      if (mode === 'hang' || answered) return;
      if (mode === 'reset-before-response') {
        sock.resetAndDestroy();
        return;
      }
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      answered = true;
      sock.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${MID_BODY.announcedBytes}\r\n\r\n`,
      );
      // Reset only once the partial body is on the wire, so the gateway sees it before the RST.
      sock.write(Buffer.alloc(MID_BODY.sentBytes, 0x61), () => setTimeout(() => sock.resetAndDestroy(), 50));
    });
  });
  return { port: server.port, connections: () => accepted, close: server.close };
}

export interface BlackholeServer {
  port: number;
  /** The stopped child's pid. */
  pid: number;
  close(): Promise<void>;
}

/**
 * A port whose TCP handshakes never complete: a child process listens with backlog 1 and is then
 * SIGSTOPped, so it never accepts; once the accept queue is filled, Linux drops further SYNs and a
 * connect() to it hangs until the caller's connect timeout.
 *
 * The child leads a process group of its own, killed (SIGCONT, then SIGKILL) by close() or, should
 * the test process end first, by its exit hook: a stopped process is never left behind.
 */
export async function startBlackholeServer(): Promise<BlackholeServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('net').createServer();
       s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => process.stdout.write(s.address().port + '\\n'));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  const pgid = child.pid;
  if (pgid === undefined) throw await new Promise<Error>((r) => child.once('error', r));
  trackGroup(pgid);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`blackhole child exited early (${code})`)));
  });
  child.kill('SIGSTOP');
  const fillers: Socket[] = [];
  // Fill the accept queue: stop at the first connect that does not complete promptly.
  for (let i = 0; i < 16; i++) {
    const s = connect({ port, host: '127.0.0.1' });
    s.on('error', () => undefined);
    fillers.push(s);
    const connected = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 300);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    if (!connected) break;
  }
  return {
    port,
    pid: pgid,
    close: async () => {
      for (const s of fillers) s.destroy();
      await killGroupAndWait(pgid);
      untrackGroup(pgid);
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    },
  };
}
