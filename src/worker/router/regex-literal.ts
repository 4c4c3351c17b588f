/**
 * The literal text every match of a start-anchored path regex begins with, so the regex can hang
 * in the radix tree at that prefix and is never run for paths that cannot match it.
 * MUST be conservative: a literal longer than the truth would hide a route. Anything unusual
 * (alternation, case-insensitive flag, escapes of letters or digits) gives a shorter or empty one.
 */

const META = new Set(['.', '^', '$', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|']);
const QUANTIFIERS = new Set(['*', '+', '?', '{']);

function isAlnum(c: string): boolean {
  return /^[A-Za-z0-9]$/.test(c);
}

/** @param regex a RegExp built by compilePathRegex (source begins with the `^` Kong adds) */
export function regexLiteralPrefix(regex: RegExp): string {
  const source = regex.source;
  if (regex.flags.includes('i') || source.includes('|') || source[0] !== '^') return '';
  let literal = '';
  let i = 1;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      const d = source[i + 1];
      if (d === undefined || isAlnum(d)) break; // \d, \w, \b, \1, \u…: not a literal
      literal += d;
      i += 2;
      continue;
    }
    if (META.has(c)) {
      // A quantifier applies to the character before it, which is then not guaranteed.
      if (QUANTIFIERS.has(c)) literal = literal.slice(0, -1);
      break;
    }
    literal += c;
    i++;
  }
  return literal;
}
