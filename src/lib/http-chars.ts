/**
 * HTTP character classes as charCode loops (no regex per header on the request path): tokens
 * (RFC 9110 tchar), header values, request-target text, control characters. Strings are checked
 * by UTF-16 code unit, as the regexes they replace did (test/unit/lib/http-chars.test.ts
 * compares them).
 */

/** A table of `size` codes (128 or 256): 1 for ASCII digits and letters and for each of `punctuation`. */
export function alphanumericPlus(punctuation: string, size = 128): Uint8Array {
  const t = new Uint8Array(size);
  for (const ch of punctuation) t[ch.charCodeAt(0)] = 1;
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  return t;
}

/** RFC 9110 tchar: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA (1 = allowed), one entry per byte. */
export const TCHAR = alphanumericPlus("!#$%&'*+-.^_`|~", 256);

/** A method or header name: one or more tchars. */
export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A header value: HTAB, SP to `~`, and obs-text 0x80-0xff; no other control byte, nothing above 0xff. */
export function isHeaderValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 ? c !== 0x09 : c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** A request target's characters: 0x21-0xff (no space, no control byte below it, nothing above 0xff). */
export function isPathText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0xff) return false;
  }
  return true;
}

/** A client header value holds a control character other than HTAB (0x00-0x08, 0x0a-0x1f, 0x7f). */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 ? c !== 0x09 : c === 0x7f) return true;
  }
  return false;
}
