/**
 * A fast reader for the YAML that declarative configs are made of (deck's output, hand-written
 * kong.yml): block mappings and sequences, one-line flow collections, plain / single / double
 * quoted one-line scalars, comments. The `yaml` package builds a full document (CST, nodes,
 * ranges) and reads about 1.5 MB/s; a 10,000-route, 100,000-consumer file took seconds there.
 *
 * It gives exactly what `parseDocument(text).toJS()` gives (YAML 1.2 core schema) or `undefined`:
 * anything outside the subset (anchors, aliases, tags, block scalars, multi-line scalars or flow
 * collections, duplicate keys, merge keys, tabs, CR, directives, several documents, escapes other
 * than the common ones, syntax errors) makes it give up, and load.ts falls back to the `yaml`
 * package, which then also reports errors and warnings with their lines as before.
 */

class GiveUp {}
const GIVE_UP = new GiveUp();

function giveUp(): never {
  throw GIVE_UP;
}

interface Line {
  indent: number;
  text: string;
}

const NULLS = new Set(['~', 'null', 'Null', 'NULL']);
const TRUES = new Set(['true', 'True', 'TRUE']);
const FALSES = new Set(['false', 'False', 'FALSE']);
const INT = /^-?[0-9]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** Characters a plain scalar may not start with (YAML's indicators), besides `-`, `?`, `:`. */
const BAD_START = new Set([',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

/** The core schema's resolution of a plain scalar (the `yaml` package's defaults, version 1.2). */
function resolvePlain(s: string): unknown {
  if (NULLS.has(s)) return null;
  if (TRUES.has(s)) return true;
  if (FALSES.has(s)) return false;
  const c = s.charCodeAt(0);
  // Digits, sign or dot first: numbers in the shapes Number() reads as YAML does, others give up
  // (octal 0o, hex 0x, .inf, .nan, a leading +, -0, out-of-range integers).
  if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
    if (INT.test(s)) {
      const n = Number(s);
      if (!Number.isSafeInteger(n) || Object.is(n, -0)) giveUp();
      return n;
    }
    if (FLOAT.test(s)) {
      if (c === 43) giveUp();
      return parseFloat(s);
    }
    if (/^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/.test(s) || /^0[ox]/.test(s)) giveUp();
  }
  return s;
}

function checkPlainStart(s: string): void {
  const c = s[0];
  if (c === undefined || BAD_START.has(c)) giveUp();
  if (c === '?' || c === ':' || (c === '-' && (s.length === 1 || s[1] === ' '))) giveUp();
}

/** A one-line double-quoted scalar starting at s[i] (`"`); returns [value, index after the quote]. */
function doubleQuoted(s: string, i: number): [string, number] {
  let out = '';
  let from = i + 1;
  for (let j = from; j < s.length; j++) {
    const c = s[j];
    if (c === '"') return [out + s.slice(from, j), j + 1];
    if (c !== '\\') continue;
    out += s.slice(from, j);
    const e = s[++j];
    if (e === '\\' || e === '"' || e === '/') out += e;
    else if (e === 'n') out += '\n';
    else if (e === 't') out += '\t';
    else if (e === 'r') out += '\r';
    else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(j + 1, j + 5))) {
      const code = parseInt(s.slice(j + 1, j + 5), 16);
      if (code >= 0xd800 && code <= 0xdfff) giveUp();
      out += String.fromCharCode(code);
      j += 4;
    } else giveUp();
    from = j + 1;
  }
  return giveUp();
}

function singleQuoted(s: string, i: number): [string, number] {
  let out = '';
  let from = i + 1;
  for (let j = from; j < s.length; j++) {
    if (s[j] !== "'") continue;
    if (s[j + 1] === "'") {
      out += s.slice(from, j + 1);
      from = j + 2;
      j++;
      continue;
    }
    return [out + s.slice(from, j), j + 1];
  }
  return giveUp();
}

function skipSpaces(s: string, i: number): number {
  while (s.charCodeAt(i) === 32) i++;
  return i;
}

/** Only spaces, or spaces then a comment, from i to the end. */
function restIsEmpty(s: string, i: number): boolean {
  const j = skipSpaces(s, i);
  return j === s.length || (s[j] === '#' && (j === 0 || s[j - 1] === ' '));
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__' || key === '<<' || Object.prototype.hasOwnProperty.call(obj, key)) giveUp();
  obj[key] = value;
}

// ---- flow collections (one line) ----------------------------------------------------------

function flowPlainEnd(s: string, i: number): number {
  let j = i;
  for (; j < s.length; j++) {
    const c = s[j];
    if (c === ',' || c === '[' || c === ']' || c === '{' || c === '}') break;
    if (c === ':') {
      const n = s[j + 1];
      if (n === undefined || n === ' ' || n === ',' || n === ']' || n === '}' || n === '[' || n === '{') break;
    }
    if (c === '#' && s[j - 1] === ' ') giveUp();
  }
  return j;
}

/** A flow node at s[i]; returns [value, index after it]. */
function flowNode(s: string, i: number): [unknown, number] {
  const c = s[i];
  if (c === '[') return flowSeq(s, i);
  if (c === '{') return flowMap(s, i);
  if (c === '"') return doubleQuoted(s, i);
  if (c === "'") return singleQuoted(s, i);
  const end = flowPlainEnd(s, i);
  const text = s.slice(i, end).trimEnd();
  if (text === '') giveUp();
  checkPlainStart(text);
  return [resolvePlain(text), end];
}

/**
 * A short array copied to its length: an array grown by push() has room for 17 elements (~150
 * bytes) after its first. The parsed document lives through validation, and 100,000 one-element
 * lists (a consumer's credentials) were ~13 MB more for every scavenge to copy.
 */
function fit(a: unknown[]): unknown[] {
  return a.length > 0 && a.length < 16 ? a.slice() : a;
}

function flowSeq(s: string, i: number): [unknown[], number] {
  const out: unknown[] = [];
  i = skipSpaces(s, i + 1);
  if (s[i] === ']') return [out, i + 1];
  for (;;) {
    const [v, end] = flowNode(s, i);
    i = skipSpaces(s, end);
    // `[a: b]` (a one-pair mapping in a sequence) is left to the yaml package.
    if (s[i] === ':') giveUp();
    out.push(v);
    if (s[i] === ']') return [fit(out), i + 1];
    if (s[i] !== ',') giveUp();
    i = skipSpaces(s, i + 1);
    if (s[i] === ']' || s[i] === ',') giveUp();
  }
}

function flowMap(s: string, i: number): [Record<string, unknown>, number] {
  const out: Record<string, unknown> = {};
  i = skipSpaces(s, i + 1);
  if (s[i] === '}') return [out, i + 1];
  for (;;) {
    const c = s[i];
    if (c === '[' || c === '{') giveUp();
    const [k, kEnd] = flowNode(s, i);
    if (typeof k !== 'string' || (c !== '"' && c !== "'" && resolvePlain(k) !== k)) giveUp();
    i = skipSpaces(s, kEnd);
    if (s[i] !== ':' || s[i + 1] !== ' ') giveUp();
    i = skipSpaces(s, i + 1);
    const [v, vEnd] = flowNode(s, i);
    setKey(out, k as string, v);
    i = skipSpaces(s, vEnd);
    if (s[i] === '}') return [out, i + 1];
    if (s[i] !== ',') giveUp();
    i = skipSpaces(s, i + 1);
    if (s[i] === '}' || s[i] === ',') giveUp();
  }
}

// ---- block structure ----------------------------------------------------------------------

/** A value written on the line after `key: ` or `- `: flow, quoted or plain, then nothing. */
function inlineValue(s: string): unknown {
  const c = s[0];
  if (c === '[' || c === '{' || c === '"' || c === "'") {
    const [v, end] = flowNode(s, 0);
    if (!restIsEmpty(s, end)) giveUp();
    return v;
  }
  let end = s.length;
  const hash = s.indexOf(' #');
  if (hash !== -1) end = hash;
  const text = s.slice(0, end).trimEnd();
  checkPlainStart(text);
  if (text.includes(': ') || text.endsWith(':')) giveUp();
  return resolvePlain(text);
}

/**
 * Where the `:` of a `key: value` line is, with the key's value; null when the line is not a
 * mapping entry.
 */
function mappingKey(s: string): [string, number] | null {
  const c = s[0];
  if (c === '[' || c === '{') {
    // A flow collection as a key is the yaml package's business; as a value it is no key.
    if (s[skipSpaces(s, flowNode(s, 0)[1])] === ':') giveUp();
    return null;
  }
  if (c === '"' || c === "'") {
    const [k, end] = c === '"' ? doubleQuoted(s, 0) : singleQuoted(s, 0);
    const j = skipSpaces(s, end);
    if (s[j] !== ':') return null;
    if (j + 1 < s.length && s[j + 1] !== ' ') giveUp();
    return [k, j];
  }
  let colon = -1;
  for (let j = 0; j < s.length; j++) {
    if (s[j] === '#' && j > 0 && s[j - 1] === ' ') break;
    if (s[j] === ':' && (j + 1 === s.length || s[j + 1] === ' ')) {
      colon = j;
      break;
    }
  }
  if (colon === -1) return null;
  const key = s.slice(0, colon).trimEnd();
  checkPlainStart(key);
  // YAML caps implicit keys at 1024 characters; the yaml package reports that.
  if (key.length > 1000) giveUp();
  if (resolvePlain(key) !== key || key.includes(' #')) giveUp();
  return [key, colon];
}

function isSeqItem(text: string): boolean {
  return text.charCodeAt(0) === 45 && (text.length === 1 || text.charCodeAt(1) === 32);
}

class BlockReader {
  pos = 0;
  constructor(readonly lines: Line[]) {}

  node(indent: number): unknown {
    const line = this.lines[this.pos];
    if (line.indent !== indent) giveUp();
    if (isSeqItem(line.text)) return this.seq(indent);
    if (mappingKey(line.text) !== null) return this.map(indent);
    // A scalar on a line of its own (`key:` then the value below it): left to the yaml package.
    return giveUp();
  }

  /** The value of `key:` / `-` with nothing after it on the line: what the next lines hold. */
  below(indent: number, seqAtSameIndent: boolean): unknown {
    const next = this.lines[this.pos];
    if (next === undefined) return null;
    if (next.indent > indent) return this.node(next.indent);
    if (seqAtSameIndent && next.indent === indent && isSeqItem(next.text)) return this.seq(indent);
    return null;
  }

  map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (;;) {
      const line = this.lines[this.pos];
      if (line === undefined || line.indent < indent) return out;
      if (line.indent > indent || isSeqItem(line.text)) giveUp();
      const key = mappingKey(line.text);
      if (key === null) giveUp();
      const [k, colon] = key;
      const rest = line.text.slice(colon + 1);
      this.pos++;
      if (restIsEmpty(rest, 0)) {
        setKey(out, k, this.below(indent, true));
      } else {
        setKey(out, k, inlineValue(rest.slice(skipSpaces(rest, 0))));
        const next = this.lines[this.pos];
        if (next !== undefined && next.indent > indent) giveUp();
      }
    }
  }

  seq(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const line = this.lines[this.pos];
      if (line === undefined || line.indent < indent) return fit(out);
      if (line.indent > indent) giveUp();
      if (!isSeqItem(line.text)) return fit(out);
      const rest = line.text.slice(1);
      if (restIsEmpty(rest, 0)) {
        this.pos++;
        out.push(this.below(indent, false));
        continue;
      }
      const skip = skipSpaces(rest, 0);
      const content = rest.slice(skip);
      const column = indent + 1 + skip;
      if (isSeqItem(content) || mappingKey(content) !== null) {
        // `- key: value` / `- - x`: the item is a block node that starts at the content's column.
        this.lines[this.pos] = { indent: column, text: content };
        out.push(this.node(column));
      } else {
        this.pos++;
        out.push(inlineValue(content));
        const next = this.lines[this.pos];
        if (next !== undefined && next.indent > indent) giveUp();
      }
    }
  }
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let indent = start;
    while (text.charCodeAt(indent) === 32) indent++;
    if (indent < end && text.charCodeAt(indent) !== 35) {
      let last = end;
      while (last > indent && text.charCodeAt(last - 1) === 32) last--;
      const content = text.slice(indent, last);
      if (indent === start && (content.startsWith('---') || content.startsWith('...') || content[0] === '%')) giveUp();
      lines.push({ indent: indent - start, text: content });
    }
    start = end + 1;
  }
  return lines;
}

/** The document's value as `yaml`'s toJS gives it, or undefined when it must read the file itself. */
export function fastYaml(text: string): unknown {
  // Tabs, CR, a BOM, anchors/aliases/tags anywhere: the yaml package's business (a quick, coarse test).
  if (/[\t\r\uFEFF]/.test(text)) return undefined;
  try {
    const lines = splitLines(text);
    if (lines.length === 0) return undefined;
    const reader = new BlockReader(lines);
    const value = reader.node(lines[0].indent);
    if (reader.pos !== lines.length) return undefined;
    return value;
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
}
