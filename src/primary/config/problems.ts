/**
 * Problem collection for config validation. Validators work on plain JS values and report
 * problems by path segments; load.ts later maps each path to the YAML node's line:column.
 * Collect-then-report-all (STYLE 3.4): nothing here throws.
 */
export type Seg = string | number;
export type Path = readonly Seg[];
export type At = 'key' | 'value' | 'none';

export interface RawProblem {
  path: Path;
  message: string;
  /**
   * 'key' points the line at the mapping key (unknown fields), 'value' (default) at the value,
   * 'none' gives no line (the problem is not in the file, e.g. an environment variable).
   */
  at?: At;
}

export class Problems {
  readonly errors: RawProblem[] = [];
  readonly warnings: RawProblem[] = [];
  /**
   * Whether the value at `path` was written as a quoted scalar; set by the loader. YAML 1.1 reads
   * only unquoted `yes`/`off` … as booleans; quoted ones stay strings (schema.ts).
   */
  quotedScalar?: (path: Path) => boolean;

  err(path: Path, message: string, at?: At): void {
    this.errors.push({ path, message, at });
  }

  warn(path: Path, message: string, at?: At): void {
    this.warnings.push({ path, message, at });
  }

  get count(): number {
    return this.errors.length;
  }
}

/** `['services', 2, 'routes', 0]` → `services[2].routes[0]` (Kong's spelling). */
export function pathToString(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `upstream` → `an upstream`, `route` → `a route`. */
export function withArticle(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}
