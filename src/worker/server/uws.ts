/**
 * Loads the uWebSockets.js native binary directly — never a package's JS entry, which silently
 * falls back to a slow JavaScript imitation when the binary does not load.
 *
 * Candidates, best first: uWS 20.57 (@btc-vision/uwebsockets.js; needs glibc >= 2.38) then
 * uWS 20.30 (@trufflesuite/uws-js-unofficial; Node <= 20). HYPERWAY_UWS=<package name> forces one.
 * None loads → HW_ERR_UWS_UNAVAILABLE with every reason, and the worker exits.
 */
import path from 'node:path';
import fs from 'node:fs';
import { HyperwayError } from '../../lib/errors';

export type RecognizedString = string | ArrayBuffer | Uint8Array;

export interface HttpResponse {
  pause(): void;
  resume(): void;
  writeStatus(status: RecognizedString): HttpResponse;
  writeHeader(key: RecognizedString, value: RecognizedString): HttpResponse;
  write(chunk: RecognizedString): boolean;
  end(body?: RecognizedString, closeConnection?: boolean): HttpResponse;
  endWithoutBody(reportedContentLength?: number, closeConnection?: boolean): HttpResponse;
  tryEnd(fullBodyOrChunk: RecognizedString, totalSize: number): [boolean, boolean];
  close(): HttpResponse;
  getWriteOffset(): number;
  onWritable(handler: (offset: number) => boolean): HttpResponse;
  onAborted(handler: () => void): HttpResponse;
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): HttpResponse;
  getRemoteAddressAsText(): ArrayBuffer;
  cork(cb: () => void): HttpResponse;
}

export interface HttpRequest {
  getHeader(lowerCaseKey: string): string;
  getUrl(): string;
  getMethod(): string;
  getCaseSensitiveMethod(): string;
  getQuery(): string;
  forEach(cb: (key: string, value: string) => void): void;
}

export type ListenSocket = object;

export interface TemplatedApp {
  /** SSLApp only: a certificate for a server name (exact or `*.example.com`), files only. */
  addServerName(hostname: string, options: object): TemplatedApp;
  /** SSLApp only: later handlers go to this server name's router. */
  domain(hostname: string): TemplatedApp;
  any(pattern: string, handler: (res: HttpResponse, req: HttpRequest) => void): TemplatedApp;
  listen(host: string, port: number, cb: (socket: ListenSocket | false) => void): TemplatedApp;
  close?(): void;
}

export interface UwsModule {
  App(options?: object): TemplatedApp;
  SSLApp(options: object): TemplatedApp;
  us_listen_socket_close(socket: ListenSocket): void;
  us_socket_local_port(socket: ListenSocket): number;
}

export interface LoadedUws {
  uws: UwsModule;
  /** The package that provided the binary, and the uWS version it ships. */
  source: string;
  version: string;
  file: string;
}

const CANDIDATES = [
  { pkg: '@btc-vision/uwebsockets.js', dirs: ['.'] },
  { pkg: '@trufflesuite/uws-js-unofficial', dirs: ['../dist', '.', 'dist'] },
];

export function loadUws(forced = process.env.HYPERWAY_UWS): LoadedUws {
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  const reasons: string[] = [];
  if (forced && !CANDIDATES.some((c) => c.pkg === forced)) {
    reasons.push(`HYPERWAY_UWS=${forced} is not one of: ${CANDIDATES.map((c) => c.pkg).join(', ')}`);
  }
  for (const c of CANDIDATES) {
    if (forced && forced !== c.pkg) continue;
    let main: string;
    try {
      main = require.resolve(c.pkg); // resolves the path only; the JS entry is never executed
    } catch {
      reasons.push(`${c.pkg}: not installed`);
      continue;
    }
    const binary = c.dirs.map((d) => path.resolve(path.dirname(main), d, file)).find((p) => fs.existsSync(p));
    if (!binary) {
      reasons.push(`${c.pkg}: no ${file} (Node ABI ${process.versions.modules} not shipped)`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const uws = require(binary) as UwsModule;
      return { uws, source: c.pkg, version: packageVersion(main), file: binary };
    } catch (e) {
      reasons.push(`${c.pkg}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new HyperwayError('HW_ERR_UWS_UNAVAILABLE', `no uWebSockets.js native binary could be loaded:\n  ${reasons.join('\n  ')}`);
}

function packageVersion(main: string): string {
  for (let dir = path.dirname(main); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) return (JSON.parse(fs.readFileSync(pj, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}
