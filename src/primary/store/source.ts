/**
 * What the primary loads, at start and on SIGHUP. Without a state file: kong.yml, as before.
 * With one (the Admin API changed something): the state file's entities with kong.yml's
 * `hyperway:` block; the state file wins even when kong.yml changed after it was written, with a
 * warning naming both, because it holds changes made after kong.yml was loaded that nothing else
 * records. Deleting the state file (or `POST /config`) goes back to kong.yml.
 */
import { existsSync, readFileSync } from 'node:fs';
import { yaml } from '../../lib/optional-packages';
import { ConfigError } from '../../lib/errors';
import { compileInPoolEarly, LARGE_CONFIG_BYTES, loadConfigText, stageConfigText, type LoadedConfig, type StagedConfig } from '../config';
import { readConfigText } from '../config/load';
import { fastYaml } from '../config/fast-yaml';
import { sha256, stateFileFor, type StateFile } from './file-store';

export interface Source {
  text: string;
  /** The file named in problems: kong.yml, or the state file. */
  file: string;
  /** sha256 of the kong.yml the entities come from (the state file's record of it, when loaded from there). */
  configSha: string;
  fromState: boolean;
  /** Lines for stderr (the state file winning over a changed kong.yml). */
  notices: string[];
}

export function readSource(configFile: string): Source {
  const kongText = readConfigText(configFile);
  const configSha = sha256(kongText);
  const stateFile = stateFileFor(configFile);
  if (!existsSync(stateFile)) return { text: kongText, file: configFile, configSha, fromState: false, notices: [] };
  let state: StateFile;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as StateFile;
    if (typeof state !== 'object' || state === null || typeof state.config !== 'object' || state.config === null) throw new Error('no "config" object');
  } catch (e) {
    throw new ConfigError(stateFile, [{ path: '', message: `cannot read the Admin API state file: ${(e as Error).message} (remove it to load ${configFile} alone)` }], 'HW_ERR_CONFIG_READ');
  }
  const notices: string[] = [];
  if (state.config_sha256 !== configSha) {
    notices.push(`hyperway: warning: ${configFile} changed after the Admin API wrote ${stateFile}; loading ${stateFile} (it wins; remove it to load ${configFile} alone)`);
  }
  const doc: Record<string, unknown> = { ...state.config };
  const block = settingsBlock(kongText);
  if (block !== undefined) doc.hyperway = block;
  // The state keeps naming the kong.yml its entities came from: a later write must not make an
  // edit of kong.yml that was never loaded look as if it had been.
  return { text: JSON.stringify(doc), file: stateFile, configSha: typeof state.config_sha256 === 'string' ? state.config_sha256 : '', fromState: true, notices };
}

/**
 * readSource, then the same validation + compile as a file (a reload): large ones on the compile
 * pool, so the primary's loop keeps turning. At start, stageSource below.
 */
export async function loadSource(configFile: string, env: NodeJS.ProcessEnv, version: number): Promise<{ loaded: LoadedConfig; source: Source; entitiesReady: Promise<void> }> {
  const source = readSource(configFile);
  if (Buffer.byteLength(source.text) > LARGE_CONFIG_BYTES) return { ...(await compileInPoolEarly(source.text, source.file, env, version)), source };
  return { loaded: loadConfigText(source.text, source.file, env, version), source, entitiesReady: Promise.resolve() };
}

/**
 * At start: readSource, parsed, with the settings resolved before the rest is validated and
 * compiled (staged.finish()), so the primary can fork its workers in between; null settings for a
 * file under LARGE_CONFIG_BYTES (its compile is shorter than a worker's boot: nothing to overlap,
 * and a bad small file keeps failing before any process starts).
 */
export function stageSource(configFile: string, env: NodeJS.ProcessEnv): { staged: StagedConfig; source: Source } {
  const source = readSource(configFile);
  if (Buffer.byteLength(source.text) <= LARGE_CONFIG_BYTES) {
    return { staged: { settings: null, finish: (version) => loadConfigText(source.text, source.file, env, version) }, source };
  }
  return { staged: stageConfigText(source.text, source.file, env), source };
}

/** kong.yml's `hyperway:` block (a loaded config carries its own: LoadedConfig.settingsBlock). */
function settingsBlock(text: string): unknown {
  try {
    // fastYaml first: the yaml package took seconds on the main thread for a 100,000-consumer file.
    const v = (fastYaml(text) ?? yaml().parse(text, { merge: true, uniqueKeys: false })) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>).hyperway : undefined;
  } catch {
    return undefined; // the loader reports the syntax error with its line
  }
}
