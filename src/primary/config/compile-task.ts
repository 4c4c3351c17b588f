/**
 * Piscina task: load → validate → compile in a worker thread, so a large config does not block
 * the primary's event loop. Results are plain data (structured clone), errors become problems.
 */
import type { ConfigProblem, ErrorCode } from '../../lib/errors';
import type { Snapshot } from '../../shared/snapshot';
import type { EntitySet } from './flatten';
import { loadConfigText } from './load-config';

export interface CompileTask {
  text: string;
  file: string;
  env: NodeJS.ProcessEnv;
  version: number;
}

export type CompileResult =
  | { ok: true; snapshot: Snapshot; warnings: ConfigProblem[]; entities: EntitySet }
  | { ok: false; problems: ConfigProblem[]; code: ErrorCode };

export default function compileTask(task: CompileTask): CompileResult {
  try {
    const r = loadConfigText(task.text, task.file, task.env, task.version);
    return { ok: true, snapshot: r.snapshot, warnings: r.warnings, entities: r.entities };
  } catch (e) {
    // Matched by shape, not class: see lib/errors.ts.
    const err = e as { code?: ErrorCode; problems?: ConfigProblem[]; message?: string };
    if (Array.isArray(err.problems) && err.code) return { ok: false, problems: err.problems, code: err.code };
    return { ok: false, problems: [{ path: '', message: `internal error while compiling: ${err.message ?? String(e)}` }], code: 'HW_ERR_CONFIG_INVALID' };
  }
}
