/**
 * Route regexes as Kong's traditional_compatible router takes them (Rust `regex` crate syntax) →
 * the text the worker's router compiles (src/worker/router/build.ts `compilePathRegex`).
 *
 * Design: the router compiles the Snapshot's text itself and understands only two non-JS
 * spellings, `(?P<name>` and a leading `(?i)`. Everything else is translated HERE, once, and
 * compile.ts writes the translated text into the Snapshot; validation compiles exactly that text,
 * so a regex that passes the check is the regex the worker runs. What JS cannot express, and what
 * the Rust engine rejects (look-around, backreferences), is a RegexError with the reason.
 */

export class RegexError extends Error {}

/** Rust/PCRE ASCII classes, as the contents of a JS character class. */
const POSIX: Record<string, string> = {
  alnum: 'A-Za-z0-9', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: ' \\t', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ', upper: 'A-Z', word: 'A-Za-z0-9_', xdigit: '0-9A-Fa-f',
};
const POSIX_NEGATED: Record<string, string> = { digit: '\\D', word: '\\W', space: '\\S' };

const isCased = (c: string): boolean => c.toLowerCase() !== c.toUpperCase();
/** Both cases of a letter, for case-insensitive scopes JS flags cannot express. */
const bothCases = (c: string): string => (isCased(c) ? `${c.toLowerCase()}${c.toUpperCase()}` : c);

class NeedsExpansion extends Error {}

/** Index of the `)` closing the group opened at `open`, or -1. Skips escapes and classes. */
function closingParen(re: string, open: number): number {
  let depth = 0;
  for (let i = open; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') i++;
    else if (c === '[') {
      i++;
      if (re[i] === '^') i++;
      if (re[i] === ']') i++;
      while (i < re.length && re[i] !== ']') {
        const posixEnd = re.startsWith('[:', i) ? re.indexOf(':]', i) : -1;
        i = re[i] === '\\' ? i + 2 : posixEnd >= 0 ? posixEnd + 2 : i + 1;
      }
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** `\x{HHHH}` (Rust) → `\uHHHH`; returns [text, length consumed]. */
function hexEscape(re: string, i: number): [string, number] {
  const end = re.indexOf('}', i);
  const hex = end < 0 ? '' : re.slice(i + 3, end);
  if (!/^[0-9a-fA-F]{1,6}$/.test(hex)) throw new RegexError('invalid \\x{...} escape');
  const cp = parseInt(hex, 16);
  if (cp > 0xffff) throw new RegexError('\\x{...} above U+FFFF is not supported');
  return [`\\u${cp.toString(16).padStart(4, '0')}`, end + 1 - i];
}

/** Checks and translates one escape outside or inside a class; returns [text, length]. */
function escape(re: string, i: number, atStart: boolean, inClass: boolean): [string, number] {
  const d = re[i + 1];
  if (d === undefined) return ['\\', 1]; // V8 reports it
  if (d >= '1' && d <= '9') throw new RegexError('backreferences are not supported by the router (Rust regex)');
  if (d === 'k' && re[i + 2] === '<') throw new RegexError('backreferences are not supported by the router (Rust regex)');
  if (d === 'p' || d === 'P') throw new RegexError('Unicode classes (\\p, \\P) are not supported');
  if (d === 'x' && re[i + 2] === '{') return hexEscape(re, i);
  if (!inClass) {
    if (d === 'A') return [atStart ? '' : '^', 2]; // no `m` flag: `^` is the start of the text
    if (d === 'z' || d === 'Z') return ['$', 2]; // paths hold no newline, so \Z is \z
  }
  return [re.slice(i, i + 2), 2];
}

/** A `[...]` class starting at i; returns [text, length]. */
function charClass(re: string, start: number, ci: boolean): [string, number] {
  let j = start + 1;
  let out = '[';
  if (re[j] === '^') {
    out += '^';
    j++;
  }
  if (re[j] === ']') {
    out += '\\]'; // a leading `]` is literal in Rust and PCRE; JS would read `[]`
    j++;
  }
  while (j < re.length && re[j] !== ']') {
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(re.slice(j, j + 12));
    if (posix) {
      const [all, neg, name] = posix;
      if (!(name in POSIX)) throw new RegexError(`unknown POSIX class [:${name}:]`);
      if (neg && !POSIX_NEGATED[name]) throw new RegexError(`negated POSIX class [:^${name}:] is not supported`);
      out += neg ? POSIX_NEGATED[name] : ci && (name === 'upper' || name === 'lower') ? 'A-Za-z' : POSIX[name];
      j += all.length;
      continue;
    }
    if (re[j] === '[') throw new RegexError('nested character classes are not supported');
    if (re.startsWith('&&', j) || re.startsWith('~~', j)) throw new RegexError('character class set operations are not supported');
    if (re[j] === '\\') {
      const [text, len] = escape(re, j, false, true);
      out += text;
      j += len;
      continue;
    }
    const c = re[j];
    const end = re[j + 2];
    if (re[j + 1] === '-' && end !== undefined && end !== ']' && end !== '\\' && end !== '[') {
      out += `${c}-${end}`;
      if (ci) out += caseRange(c, end);
      j += 3;
      continue;
    }
    out += ci ? bothCases(c) : c;
    j++;
  }
  if (j >= re.length) return [re.slice(start), re.length - start]; // unterminated: V8 reports it
  return [out + ']', j + 1 - start];
}

/** The other-case copy of a range inside a case-insensitive scope. */
function caseRange(a: string, b: string): string {
  const lower = /[a-z]/;
  const upper = /[A-Z]/;
  if (lower.test(a) && lower.test(b)) return `${a.toUpperCase()}-${b.toUpperCase()}`;
  if (upper.test(a) && upper.test(b)) return `${a.toLowerCase()}-${b.toLowerCase()}`;
  if (!isCased(a) && !isCased(b) && (b < 'A' || a > 'z' || (a > 'Z' && b < 'a'))) return '';
  throw new RegexError(`case-insensitive range ${a}-${b} is not supported`);
}

const FLAG_GROUP = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/;

/**
 * @param ci0 case-insensitive from the start (expanding letters)
 * @param flagMode the caller uses the JS `i` flag: any inline flag means it cannot
 */
function scan(re: string, ci0: boolean, flagMode: boolean): string {
  let out = '';
  let ci = ci0;
  const saved: boolean[] = [];
  let i = 0;
  while (i < re.length) {
    const c = re[i];
    if (c === '\\') {
      const [text, len] = escape(re, i, i === 0, false);
      out += text;
      i += len;
    } else if (c === '[') {
      const [text, len] = charClass(re, i, ci);
      out += text;
      i += len;
    } else if (c === '(') {
      if (re.startsWith('(?=', i) || re.startsWith('(?!', i)) throw new RegexError('lookahead is not supported by the router (Rust regex)');
      if (re.startsWith('(?<=', i) || re.startsWith('(?<!', i)) throw new RegexError('lookbehind is not supported by the router (Rust regex)');
      const m = re.startsWith('(?P<', i) || re.startsWith('(?<', i) || re.startsWith('(?:', i) ? null : FLAG_GROUP.exec(re.slice(i));
      if (!m) {
        saved.push(ci);
        out += '(';
        i++;
        continue;
      }
      if (flagMode) throw new NeedsExpansion();
      const [all, on, off = '', kind] = m;
      const other = (on + off).replace(/i/g, '');
      if (other !== '') throw new RegexError(`inline flag '${other[0]}' is not supported (only (?i) can be translated)`);
      const next = on.includes('i') ? true : off.includes('i') ? false : ci;
      if (kind === ')') {
        ci = next; // until the end of the enclosing group, as in Rust
      } else {
        saved.push(ci);
        ci = next;
        out += '(?:';
      }
      i += all.length;
    } else if (c === ')') {
      ci = saved.pop() ?? ci;
      out += ')';
      i++;
    } else {
      out += ci && isCased(c) ? `[${bothCases(c)}]` : c;
      i++;
    }
  }
  return out;
}

export interface TranslatedRegex {
  /** The regex in the router's dialect (JS, `(?P<` kept), without the leading `(?i)`. */
  text: string;
  /** Case-insensitive as a whole: the router turns a leading `(?i)` into the `i` flag. */
  ci: boolean;
}

/** Throws RegexError naming what the router cannot run. */
export function translateRegex(re: string): TranslatedRegex {
  // Route paths must start with `~/`, so Kong users write `/(?i)…`: a `(?i)` after a lead with
  // nothing case-sensitive in it makes the whole regex case-insensitive, i.e. the JS `i` flag.
  let n = 0;
  while (n < re.length && /[^\\[\](){}|.*+?^$]/.test(re[n]) && !isCased(re[n])) n++;
  const lead = re.slice(0, n);
  const rest = re.slice(n);
  let body: string;
  if (rest.startsWith('(?i:') && closingParen(rest, 0) === rest.length - 1) body = lead + rest.slice(4, -1);
  else if (rest.startsWith('(?i)')) body = lead + rest.slice(4);
  else return { text: scan(re, false, false), ci: false };
  try {
    return { text: scan(body, false, true), ci: true };
  } catch (e) {
    if (!(e instanceof NeedsExpansion)) throw e;
    return { text: scan(body, true, false), ci: false };
  }
}

/** JS source and flags, compiled the way the router compiles the Snapshot text. */
export function pcreToJs(re: string): { source: string; flags: string } {
  const t = translateRegex(re);
  return { source: t.text.replace(/\(\?P</g, '(?<'), flags: t.ci ? 'i' : '' };
}

/** `~<re>` → the Snapshot text for the router. Input already validated. */
export function routerPathText(path: string): string {
  const t = translateRegex(path.slice(1));
  return `~${t.ci ? '(?i)' : ''}${t.text}`;
}

/**
 * `~*<re>` header value → Snapshot text: plain JS, since the router compiles header regexes with
 * `new RegExp(lowercased)`. A leading `(?i)` is dropped: value and regex are both lowercased.
 */
export function routerHeaderText(value: string): string {
  return `~*${pcreToJs(value.slice(2)).source}`;
}
