/**
 * Loads a native uWebSockets.js build the way this machine can: the @btc-vision build needs
 * glibc ≥ 2.38, so the @trufflesuite binary is the fallback (Debian 12 has 2.36). The trufflesuite
 * package's own entry silently swaps in a pure-JS fallback when its binary fails, so the .node file
 * is required directly: a bench must never measure the fallback by accident.
 */
import { join } from 'node:path';

export interface UwsResponse {
  cork(fn: () => void): UwsResponse;
  writeStatus(status: string): UwsResponse;
  writeHeader(name: string, value: string): UwsResponse;
  end(body?: string | Uint8Array): UwsResponse;
  onAborted(fn: () => void): UwsResponse;
}

export interface UwsApp {
  any(pattern: string, handler: (res: UwsResponse, req: unknown) => void): UwsApp;
  listen(host: string, port: number, cb: (token: unknown) => void): UwsApp;
}

export interface UwsModule {
  App(): UwsApp;
}

export interface LoadedUws {
  uws: UwsModule;
  /** e.g. "@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0 (uws_linux_x64_115.node)". */
  build: string;
}

const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;

const CANDIDATES: Array<{ pkg: string; file: (dir: string) => string }> = [
  { pkg: '@btc-vision/uwebsockets.js', file: (dir) => join(dir, binary) },
  { pkg: '@trufflesuite/uws-js-unofficial', file: (dir) => join(dir, 'binaries', binary) },
  { pkg: '@trufflesuite/uws-js-unofficial', file: (dir) => join(dir, 'dist', binary) },
];

export function loadUws(): LoadedUws | { error: string } {
  const errors: string[] = [];
  for (const { pkg, file } of CANDIDATES) {
    try {
      const manifest = require.resolve(`${pkg}/package.json`);
      const dir = join(manifest, '..');
      const version = (require(manifest) as { version: string }).version;
      const uws = require(file(dir)) as UwsModule;
      const rel = file(dir).slice(dir.length + 1);
      return { uws, build: `${pkg}@${version} (${rel})` };
    } catch (err) {
      errors.push(`${pkg}: ${String(err).split('\n')[0]}`);
    }
  }
  return { error: errors.join('; ') };
}
