/** Shared helpers for the config tests (not a test file itself). */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfigText, type LoadedConfig } from '../../../src/primary/config';
import type { ConfigProblem } from '../../../src/lib/errors';

/** The repository root: the nearest folder above this file holding package.json (works from dist/ too). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return dir;
}

export const FIXTURES = path.join(repoRoot(), 'test', 'fixtures', 'config');
export const SEEDS = path.resolve(repoRoot(), '..', 'shared', 'seed-configs');

export function load(text: string, env: NodeJS.ProcessEnv = {}, version = 1): LoadedConfig {
  return loadConfigText(text, 'kong.yml', env, version);
}

/** The problems of a config that must fail; fails the test if it loads. */
export function problems(text: string, env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
  try {
    load(text, env);
  } catch (e) {
    const err = e as { code?: string; problems?: ConfigProblem[] };
    assert.ok(Array.isArray(err.problems), `expected a ConfigError, got ${String(e)}`);
    return err.problems;
  }
  assert.fail('config loaded but was expected to fail');
}

/** `path: message` lines, the easiest form to compare whole problem lists. */
export function lines(ps: ConfigProblem[]): string[] {
  return ps.map((p) => `${p.path}: ${p.message}`);
}

/** A minimal valid document around the given YAML body. */
export function doc(body: string): string {
  return `_format_version: "3.0"\n${body}`;
}
