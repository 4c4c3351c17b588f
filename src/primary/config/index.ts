/** Declarative config: the API the CLI (`hyperway check`), the primary and the Admin API use. */
export { loadConfigFile, loadConfigText, checkConfigFile, stageConfigText, type LoadedConfig, type StagedConfig } from './load-config';
export { resolveSettings } from './settings';
export { compileInPool, compileInPoolEarly, loadConfigFileAsync, closeCompilePool, LARGE_CONFIG_BYTES } from './compile-pool';
export type { CompileTask, CompileResult } from './compile-task';
export type { ConfigProblem } from '../../lib/errors';
export { flattenModel, emptyEntitySet, type EntityRecord, type EntitySet } from './flatten';
export { ENTITY_DEFS, ENTITY_ORDER, type EntityName } from './entities';
