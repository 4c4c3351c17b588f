/**
 * Text → plain JS value, keeping the YAML document so any problem path can be turned into the
 * line:column of the node it names. JSON is YAML too, so one parser serves both.
 */
import { readFileSync } from 'node:fs';
import type { Document, Node } from 'yaml';
import { yaml } from '../../lib/optional-packages';
import { ConfigError, type ConfigProblem } from '../../lib/errors';
import { fastYaml } from './fast-yaml';
import { pathToString, type Path, type RawProblem } from './problems';

export interface ParsedConfig {
  value: unknown;
  /** Maps a raw problem (segments) to a ConfigProblem with line and column. */
  locate(p: RawProblem): ConfigProblem;
  /** YAML-level warnings (unknown tags …), already located. */
  warnings: ConfigProblem[];
  /** Whether the value at `path` is a quoted scalar in the file (JSON strings are). */
  isQuotedScalar(path: Path): boolean;
}

export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ConfigError(file, [{ path: '', message: `cannot read config file: ${reason}` }], 'HW_ERR_CONFIG_READ');
  }
}

interface Located {
  doc: Document;
  pos(offset: number): { line: number; column: number };
}

function parseLocated(text: string): Located {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  // Duplicate keys load, the last one winning, as Kong's parser (lyaml) does; each is a warning.
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: false, merge: true });
  const pos = (offset: number): { line: number; column: number } => {
    const lp = lineCounter.linePos(offset);
    return { line: lp.line, column: lp.col };
  };
  return { doc, pos };
}

function locateIn({ doc, pos }: Located, p: RawProblem): ConfigProblem {
  const node = p.at === 'none' ? undefined : findNode(doc, p);
  const out: ConfigProblem = { path: pathToString(p.path), message: p.message };
  if (node?.range) Object.assign(out, pos(node.range[0]));
  return out;
}

function quotedIn({ doc }: Located, path: Path): boolean {
  // Not found (merge keys, aliases): not known to be quoted.
  const node = findNode(doc, { path, message: '' }, true);
  return yaml().isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
}

/**
 * Throws ConfigError HW_ERR_CONFIG_YAML listing every syntax error. The common subset of YAML
 * is read by fast-yaml.ts; the yaml package's document (for lines of problems, quoting) is then
 * only built when a problem or a quoted-scalar question needs it.
 */
export function parseConfigText(text: string, file: string): ParsedConfig {
  const fast = fastYaml(text);
  if (fast !== undefined) {
    let located: Located | null = null;
    const lazy = (): Located => (located ??= parseLocated(text));
    return {
      value: fast,
      warnings: [],
      isQuotedScalar: (path) => quotedIn(lazy(), path),
      locate: (p) => locateIn(lazy(), p),
    };
  }
  const located = parseLocated(text);
  const { doc, pos } = located;
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({ path: '', message: e.message.split('\n')[0], ...pos(e.pos[0]) }));
    throw new ConfigError(file, problems, 'HW_ERR_CONFIG_YAML');
  }
  const warnings: ConfigProblem[] = doc.warnings.map((w) => ({ path: '', message: w.message.split('\n')[0], ...pos(w.pos[0]) }));
  const { isScalar, visit } = yaml();
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const it of map.items) {
        if (!isScalar(it.key) || it.key.value === '<<') continue;
        const k = String(it.key.value);
        if (!seen.has(k)) seen.add(k);
        else warnings.push({ path: '', message: `duplicate key '${k}': the last value wins`, ...(it.key.range ? pos(it.key.range[0]) : {}) });
      }
    },
  });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new ConfigError(file, [{ path: '', message, line: 1, column: 1 }], 'HW_ERR_CONFIG_YAML');
  }
  return {
    value,
    warnings,
    isQuotedScalar: (path) => quotedIn(located, path),
    locate: (p) => locateIn(located, p),
  };
}

/**
 * Walks the document along the path; stops at the deepest node that exists (or, when `exact`,
 * gives undefined for a path that is not all there).
 */
function findNode(doc: Document, p: RawProblem, exact = false): Node | undefined {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  let node = doc.contents as Node | null;
  if (!node) return undefined;
  for (let i = 0; i < p.path.length; i++) {
    const seg = p.path[i];
    const last = i === p.path.length - 1;
    if (typeof seg === 'number' && isSeq(node)) {
      const item = node.items[seg] as Node | undefined;
      if (!item) return exact ? undefined : node;
      node = item;
    } else if (typeof seg === 'string' && isMap(node)) {
      // The last pair of a key: the one whose value loaded (duplicate keys: the last wins).
      let pair: (typeof node.items)[number] | undefined;
      for (const it of node.items) if (isPair(it) && isScalar(it.key) && String(it.key.value) === seg) pair = it;
      if (!pair) return exact ? undefined : node;
      const key = pair.key as Node;
      const val = pair.value as Node | null;
      if (last && p.at === 'key') return key;
      if (!val || !val.range) return key;
      node = val;
    } else {
      return exact ? undefined : node;
    }
  }
  return node;
}
