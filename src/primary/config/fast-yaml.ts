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

import { ShapeCache } from './shapes';

class GiveUp {}
const GIVE_UP = new GiveUp();

function giveUp(): never {
  throw GIVE_UP;
}

const NULLS = new Set(['~', 'null', 'Null', 'NULL']);
const TRUES = new Set(['true', 'True', 'TRUE']);
const FALSES = new Set(['false', 'False', 'FALSE']);
const INT = /^-?[0-9]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** Characters a plain scalar may not start with (YAML's indicators), besides `-`, `?`, `:`. */
const BAD_START = new Uint8Array(128);
for (const c of ',[]{}#&*!|>\'"%@`') BAD_START[c.charCodeAt(0)] = 1;

/** The core schema's resolution of a plain scalar (the `yaml` package's defaults, version 1.2). */
function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  // Only these first characters start a null (~ n N), a boolean (t T f F) or a number: the
  // names and values that make most of a config skip the three set lookups.
  if (c === 126 || c === 110 || c === 78) {
    if (NULLS.has(s)) return null;
  } else if (c === 116 || c === 84) {
    if (TRUES.has(s)) return true;
  } else if (c === 102 || c === 70) {
    if (FALSES.has(s)) return false;
  } else if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
    // Digits, sign or dot first: numbers in the shapes Number() reads as YAML does, others give
    // up (octal 0o, hex 0x, .inf, .nan, a leading +, -0, out-of-range integers).
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
  if (s.length === 0) giveUp();
  const c = s.charCodeAt(0);
  if (c < 128 && BAD_START[c] === 1) giveUp();
  // ? : and `- ` / a lone `-`
  if (c === 63 || c === 58 || (c === 45 && (s.length === 1 || s.charCodeAt(1) === 32))) giveUp();
}

/**
 * Where the last quoted scalar, flow node or mapping key read ended: the readers below return
 * their value and leave the index after it here (no [value, index] pair per node).
 */
let end = 0;

/** A one-line double-quoted scalar starting at s[i] (`"`); `end` is the index after the quote. */
function doubleQuoted(s: string, i: number): string {
  let out = '';
  let from = i + 1;
  for (let j = from; j < s.length; j++) {
    const c = s[j];
    if (c === '"') {
      end = j + 1;
      return out + s.slice(from, j);
    }
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

function singleQuoted(s: string, i: number): string {
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
    end = j + 1;
    return out + s.slice(from, j);
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
  return j === s.length || (s.charCodeAt(j) === 35 && (j === 0 || s.charCodeAt(j - 1) === 32));
}

/** Mapping keys as they are read, then made one object (shapes.ts) once the mapping ends. */
class Keys {
  readonly keys: string[] = [];
  readonly vals: unknown[] = [];
  /** Past 16 keys, a repeated key is looked up here instead of by a scan. */
  private seen: Set<string> | undefined = undefined;

  add(key: string, value: unknown): void {
    // A repeated key (the yaml package warns: the last one wins), `__proto__` and merge keys are
    // the yaml package's business.
    if (key === '__proto__' || key === '<<') giveUp();
    const keys = this.keys;
    if (this.seen !== undefined) {
      if (this.seen.has(key)) giveUp();
      this.seen.add(key);
    } else {
      for (let i = 0; i < keys.length; i++) if (keys[i] === key) giveUp();
      if (keys.length === 16) this.seen = new Set(keys).add(key);
    }
    keys.push(key);
    this.vals.push(value);
  }

  object(): Record<string, unknown> {
    return shapes.build(this.keys, this.vals, this.keys.length);
  }
}

const shapes = new ShapeCache();

// ---- flow collections (one line) ----------------------------------------------------------

function flowPlainEnd(s: string, i: number): number {
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    // , [ ] { }
    if (c === 44 || c === 91 || c === 93 || c === 123 || c === 125) break;
    if (c === 58) {
      const n = s.charCodeAt(j + 1);
      // end of text, space , ] } [ {
      if (Number.isNaN(n) || n === 32 || n === 44 || n === 93 || n === 125 || n === 91 || n === 123) break;
    }
    if (c === 35 && s.charCodeAt(j - 1) === 32) giveUp();
  }
  return j;
}

/** A flow node at s[i]; `end` is the index after it. */
function flowNode(s: string, i: number): unknown {
  const c = s[i];
  if (c === '[') return flowSeq(s, i);
  if (c === '{') return flowMap(s, i);
  if (c === '"') return doubleQuoted(s, i);
  if (c === "'") return singleQuoted(s, i);
  const stop = flowPlainEnd(s, i);
  const text = s.slice(i, stop).trimEnd();
  if (text === '') giveUp();
  checkPlainStart(text);
  const v = resolvePlain(text);
  end = stop;
  return v;
}

/**
 * A short array copied to its length: an array grown by push() has room for 17 elements (~150
 * bytes) after its first. The parsed document lives through validation, and 100,000 one-element
 * lists (a consumer's credentials) were ~13 MB more for every scavenge to copy.
 */
function fit(a: unknown[]): unknown[] {
  return a.length > 0 && a.length < 16 ? a.slice() : a;
}

function flowSeq(s: string, i: number): unknown[] {
  const out: unknown[] = [];
  i = skipSpaces(s, i + 1);
  if (s[i] === ']') {
    end = i + 1;
    return out;
  }
  for (;;) {
    const v = flowNode(s, i);
    i = skipSpaces(s, end);
    // `[a: b]` (a one-pair mapping in a sequence) is left to the yaml package.
    if (s[i] === ':') giveUp();
    out.push(v);
    if (s[i] === ']') {
      end = i + 1;
      return fit(out);
    }
    if (s[i] !== ',') giveUp();
    i = skipSpaces(s, i + 1);
    if (s[i] === ']' || s[i] === ',') giveUp();
  }
}

function flowMap(s: string, i: number): Record<string, unknown> {
  i = skipSpaces(s, i + 1);
  if (s[i] === '}') {
    end = i + 1;
    return {};
  }
  const out = new Keys();
  for (;;) {
    const c = s[i];
    if (c === '[' || c === '{') giveUp();
    // A plain key is a string only when it resolved to itself (flowNode resolved it).
    const k = flowNode(s, i);
    if (typeof k !== 'string') giveUp();
    i = skipSpaces(s, end);
    if (s[i] !== ':' || s[i + 1] !== ' ') giveUp();
    i = skipSpaces(s, i + 1);
    const v = flowNode(s, i);
    out.add(k, v);
    i = skipSpaces(s, end);
    if (s[i] === '}') {
      end = i + 1;
      return out.object();
    }
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
    const v = flowNode(s, 0);
    if (!restIsEmpty(s, end)) giveUp();
    return v;
  }
  let stop = s.length;
  const hash = s.indexOf(' #');
  if (hash !== -1) stop = hash;
  const text = s.slice(0, stop).trimEnd();
  checkPlainStart(text);
  if (text.includes(': ') || text.endsWith(':')) giveUp();
  return resolvePlain(text);
}

/** The key mappingKey() read last (with the text it read it from: a line's key is asked twice). */
let keyName = '';
let keyText: string | undefined;
let keyColon = -1;

/**
 * Where the `:` of a `key: value` line is, with the key in `keyName`; -1 when the line is not a
 * mapping entry.
 */
function mappingKey(s: string): number {
  if (s === keyText) return keyColon;
  const colon = readKey(s);
  keyText = s;
  keyColon = colon;
  return colon;
}

function readKey(s: string): number {
  const c = s[0];
  if (c === '[' || c === '{') {
    // A flow collection as a key is the yaml package's business; as a value it is no key.
    flowNode(s, 0);
    if (s[skipSpaces(s, end)] === ':') giveUp();
    return -1;
  }
  if (c === '"' || c === "'") {
    const k = c === '"' ? doubleQuoted(s, 0) : singleQuoted(s, 0);
    const j = skipSpaces(s, end);
    if (s[j] !== ':') return -1;
    if (j + 1 < s.length && s[j + 1] !== ' ') giveUp();
    keyName = k;
    return j;
  }
  let colon = -1;
  for (let j = 0; j < s.length; j++) {
    const code = s.charCodeAt(j);
    if (code === 35 && j > 0 && s.charCodeAt(j - 1) === 32) break;
    if (code === 58 && (j + 1 === s.length || s.charCodeAt(j + 1) === 32)) {
      colon = j;
      break;
    }
  }
  if (colon === -1) return -1;
  const key = s.slice(0, colon).trimEnd();
  checkPlainStart(key);
  // YAML caps implicit keys at 1024 characters; the yaml package reports that.
  if (key.length > 1000) giveUp();
  if (resolvePlain(key) !== key || key.includes(' #')) giveUp();
  keyName = key;
  return colon;
}

function isSeqItem(text: string): boolean {
  return text.charCodeAt(0) === 45 && (text.length === 1 || text.charCodeAt(1) === 32);
}

/**
 * Reads the text line by line: the current line is `indent` + `text` (without its indentation
 * and trailing spaces), blank and comment-only lines skipped. Only the current line is ever
 * looked at, so no list of the file's lines is built (200,000 line records that lived, and were
 * copied by the scavenger, for the whole parse).
 */
class BlockReader {
  /** Offset of the next unread line. */
  private next = 0;
  indent = 0;
  text = '';
  /** No line left. */
  done = false;

  constructor(readonly src: string) {
    this.advance();
  }

  advance(): void {
    const src = this.src;
    while (this.next <= src.length) {
      const start = this.next;
      let stop = src.indexOf('\n', start);
      if (stop === -1) stop = src.length;
      this.next = stop + 1;
      let indent = start;
      while (src.charCodeAt(indent) === 32) indent++;
      if (indent < stop && src.charCodeAt(indent) !== 35) {
        let last = stop;
        while (last > indent && src.charCodeAt(last - 1) === 32) last--;
        const content = src.slice(indent, last);
        if (indent === start && (content.startsWith('---') || content.startsWith('...') || content[0] === '%')) giveUp();
        this.indent = indent - start;
        this.text = content;
        return;
      }
    }
    this.done = true;
  }

  node(indent: number): unknown {
    if (this.indent !== indent) giveUp();
    if (isSeqItem(this.text)) return this.seq(indent);
    if (mappingKey(this.text) !== -1) return this.map(indent);
    // A scalar on a line of its own (`key:` then the value below it): left to the yaml package.
    return giveUp();
  }

  /** The value of `key:` / `-` with nothing after it on the line: what the next lines hold. */
  below(indent: number, seqAtSameIndent: boolean): unknown {
    if (this.done) return null;
    if (this.indent > indent) return this.node(this.indent);
    if (seqAtSameIndent && this.indent === indent && isSeqItem(this.text)) return this.seq(indent);
    return null;
  }

  map(indent: number): Record<string, unknown> {
    const out = new Keys();
    for (;;) {
      if (this.done || this.indent < indent) return out.object();
      const text = this.text;
      if (this.indent > indent || isSeqItem(text)) giveUp();
      const colon = mappingKey(text);
      if (colon === -1) giveUp();
      const k = keyName;
      this.advance();
      if (restIsEmpty(text, colon + 1)) {
        out.add(k, this.below(indent, true));
      } else {
        out.add(k, inlineValue(text.slice(skipSpaces(text, colon + 1))));
        if (!this.done && this.indent > indent) giveUp();
      }
    }
  }

  seq(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      if (this.done || this.indent < indent) return fit(out);
      if (this.indent > indent) giveUp();
      const text = this.text;
      if (!isSeqItem(text)) return fit(out);
      if (restIsEmpty(text, 1)) {
        this.advance();
        out.push(this.below(indent, false));
        continue;
      }
      const skip = skipSpaces(text, 1);
      const content = text.slice(skip);
      if (isSeqItem(content) || mappingKey(content) !== -1) {
        // `- key: value` / `- - x`: the item is a block node that starts at the content's column.
        this.indent = indent + skip;
        this.text = content;
        out.push(this.node(indent + skip));
      } else {
        this.advance();
        out.push(inlineValue(content));
        if (!this.done && this.indent > indent) giveUp();
      }
    }
  }
}

/** The document's value as `yaml`'s toJS gives it, or undefined when it must read the file itself. */
export function fastYaml(text: string): unknown {
  // Tabs, CR, a BOM, anchors/aliases/tags anywhere: the yaml package's business (a quick, coarse test).
  if (/[\t\r\uFEFF]/.test(text)) return undefined;
  try {
    const reader = new BlockReader(text);
    if (reader.done) return undefined;
    const value = reader.node(reader.indent);
    if (!reader.done) return undefined;
    return value;
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  } finally {
    // The cached key names no text of this document.
    keyText = undefined;
  }
}
