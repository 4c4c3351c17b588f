/**
 * Declarative config entry points: read → parse (load.ts) → validate (validate.ts, settings.ts)
 * → compile (compile.ts). A config either loads whole or fails with every problem listed.
 */
import { ConfigError, type ConfigProblem, type ErrorCode } from '../../lib/errors';
import type { Snapshot } from '../../shared/snapshot';
import type { Settings } from '../../shared/settings';
import { compileSnapshot } from './compile';
import { parseConfigText, readConfigText, type ParsedConfig } from './load';
import { isRecord, Problems } from './problems';
import { resolveSettingsInto } from './settings';
import { validateDeclarative } from './validate';
import { flattenModel, lazyEntitySet, type EntitySet } from './flatten';
import { clone } from './schema';

export interface LoadedConfig {
  snapshot: Snapshot;
  warnings: ConfigProblem[];
  file: string;
  /** The validated entities (Kong's shape) the snapshot was compiled from: the Admin API's store. */
  entities: EntitySet;
  /** The document's `hyperway:` block as written (the entity store keeps it with the entities). */
  settingsBlock: unknown;
}

/** Problems from the environment (no line) first, then in file order. */
function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

interface Checked {
  parsed: ParsedConfig;
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
  code: ErrorCode;
  build?: (version: number) => Snapshot;
  entities?: () => EntitySet;
  settingsBlock: unknown;
}

function check(parsed: ParsedConfig, env: NodeJS.ProcessEnv): Checked {
  const pr = new Problems();
  pr.quotedScalar = (path) => parsed.isQuotedScalar(path);
  const model = validateDeclarative(parsed.value, pr);
  const block = isRecord(parsed.value) ? parsed.value.hyperway : undefined;
  const before = pr.count;
  const settings = resolveSettingsInto(block, env, pr);
  const settingsOnly = before === 0 && pr.count > 0;
  const problems = pr.errors.map((p) => parsed.locate(p)).sort(byPosition);
  const warnings = [...parsed.warnings, ...pr.warnings.map((p) => parsed.locate(p))].sort(byPosition);
  const ok = problems.length === 0 && model !== undefined;
  return {
    parsed,
    problems,
    warnings,
    code: settingsOnly ? 'HW_ERR_SETTINGS_INVALID' : 'HW_ERR_CONFIG_INVALID',
    build: ok ? (version) => compileSnapshot(model, settings, version) : undefined,
    entities: ok ? () => flattenModel(model) : undefined,
    settingsBlock: block,
  };
}

/**
 * A parsed config whose settings are known before the rest is validated: the primary creates the
 * shared segment and forks its workers from them at start, and they boot while finish() compiles.
 */
export interface StagedConfig {
  /** The settings the file and the environment give, or null when they have a problem (finish() then reports it with every other one). */
  settings: Settings | null;
  /** Validate + compile, exactly as loadConfigText: throws ConfigError listing every problem. */
  finish(version: number): LoadedConfig;
}

/** Parse (throws ConfigError on a syntax error) and resolve the settings; the rest waits for finish(). */
export function stageConfigText(text: string, file: string, env: NodeJS.ProcessEnv): StagedConfig {
  const parsed = parseConfigText(text, file);
  // Resolved again by finish(), into the problems it reports (settings are a few dozen values).
  const pr = new Problems();
  const settings = resolveSettingsInto(isRecord(parsed.value) ? parsed.value.hyperway : undefined, env, pr);
  return { settings: pr.count === 0 ? settings : null, finish: (version) => loadParsed(parsed, file, env, version) };
}

/** Same as loadConfigFile, from text (Admin API `POST /config`, tests, the compile pool). */
export function loadConfigText(text: string, file: string, env: NodeJS.ProcessEnv, version: number): LoadedConfig {
  return loadParsed(parseConfigText(text, file), file, env, version);
}

function loadParsed(parsed: ParsedConfig, file: string, env: NodeJS.ProcessEnv, version: number): LoadedConfig {
  const c = check(parsed, env);
  if (!c.build) throw new ConfigError(file, c.problems, c.code);
  // Compile first: flattenModel then takes the model's records over (compile only reads them),
  // when the entities are first read (a start sends the workers their snapshot before).
  const snapshot = c.build(version);
  // The snapshot's hash (lazy-hash.ts) reads the records flattenModel completes in place: it is
  // computed first, if nobody read it yet.
  const entities = lazyEntitySet(() => {
    void snapshot.hash;
    return c.entities!();
  });
  return { snapshot, warnings: c.warnings, file, entities, settingsBlock: clone(c.settingsBlock) };
}

/** Read + parse + validate + compile. Throws ConfigError listing EVERY problem, never a half config. */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv, version: number): LoadedConfig {
  return loadConfigText(readConfigText(file), file, env, version);
}

/** For `hyperway check`: problems (empty = valid) and warnings; config problems never throw. */
export function checkConfigFile(file: string, env: NodeJS.ProcessEnv): { problems: ConfigProblem[]; warnings: ConfigProblem[] } {
  try {
    const c = check(parseConfigText(readConfigText(file), file), env);
    return { problems: c.problems, warnings: c.warnings };
  } catch (e) {
    if (e instanceof ConfigError) return { problems: e.problems, warnings: [] };
    throw e;
  }
}
