/**
 * Kong's request-path normalization (`kong/tools/uri.lua normalize`, called with merge_slashes).
 * Shared by the worker (routing each request) and the primary (a route's prefix path must
 * already be in this form, or it could never match): both sides must agree byte for byte.
 *
 * Strings here are JS strings, not Kong's byte strings: a percent-encoded run of bytes >= 0x80 is
 * decoded as UTF-8 (so `/caf%C3%A9` matches a route path `/café`); a run that is not valid UTF-8
 * stays percent-encoded (uppercased), which is also what Kong's escape would send upstream.
 */

const SLASH = 47;
const DOT = 46;
const PERCENT = 37;
const HASH = 35;

/** Kong's RESERVED_CHARS `!*'();:@&=+$,/?%#[]`: kept encoded (uppercased) when found as `%XX`. */
const RESERVED = new Uint8Array(128);
for (const ch of "!*'();:@&=+$,/?%#[]") RESERVED[ch.charCodeAt(0)] = 1;

const HEX = '0123456789ABCDEF';
const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** `%XX` (uppercase hex) of one byte. */
export function pct(byte: number): string {
  return '%' + HEX[byte >> 4] + HEX[byte & 15];
}

/**
 * Normalizes a raw request path (query string already removed) the way Kong does before routing.
 * Returns the input itself when nothing needs changing (no allocation), or null when the path
 * cannot be normalized safely (not starting with `/`, a `%` not followed by two hex digits, `%00`,
 * raw control bytes, a `#`, a `..` above the root): the caller answers 400, as nginx does for such
 * request lines (Kong's own normalize drops a `..` above the root; nginx refuses the request first).
 */
export function normalizePath(raw: string): string | null {
  const n = raw.length;
  if (n === 0 || raw.charCodeAt(0) !== SLASH) return null;
  let slow = false;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    // A fragment never belongs to a request target (nginx answers 400 to `/a#/b`).
    if (c < 0x20 || c === 0x7f || c === HASH) return null;
    if (c === PERCENT) {
      slow = true;
    } else if (c === SLASH && !slow) {
      const c2 = raw.charCodeAt(i + 1);
      if (c2 === SLASH) {
        slow = true;
      } else if (c2 === DOT) {
        // Only `/.` and `/..` as whole segments are dot segments; `/.well-known` is not.
        const c3 = raw.charCodeAt(i + 2);
        if (i + 2 >= n || c3 === SLASH) slow = true;
        else if (c3 === DOT && (i + 3 >= n || raw.charCodeAt(i + 3) === SLASH)) slow = true;
      }
    }
  }
  if (!slow) return raw;
  const decoded = raw.indexOf('%') === -1 ? raw : percentDecode(raw);
  if (decoded === null) return null;
  return removeDotSegments(decoded);
}

/** Decodes `%XX` of unreserved and "other" bytes; reserved ones stay encoded, uppercased. */
function percentDecode(s: string): string | null {
  const n = s.length;
  let out = '';
  let last = 0;
  let i = 0;
  while (i < n) {
    if (s.charCodeAt(i) !== PERCENT) {
      i++;
      continue;
    }
    const byte = readByte(s, i);
    if (byte <= 0) return null; // bad escape or %00
    out += s.slice(last, i);
    if (byte < 0x80) {
      out += RESERVED[byte] === 1 ? pct(byte) : String.fromCharCode(byte);
      i += 3;
    } else {
      // A run of high bytes is one UTF-8 sequence (or several); decode it as a whole.
      const bytes: number[] = [];
      let j = i;
      while (j < n && s.charCodeAt(j) === PERCENT) {
        const b = readByte(s, j);
        if (b < 0) return null;
        if (b < 0x80) break;
        bytes.push(b);
        j += 3;
      }
      out += decodeUtf8Run(bytes);
      i = j;
    }
    last = i;
  }
  return out + s.slice(last);
}

/** The byte of the `%XX` at i, or -1 when the escape is malformed. */
function readByte(s: string, i: number): number {
  const hi = hexValue(s.charCodeAt(i + 1));
  const lo = hexValue(s.charCodeAt(i + 2));
  if (hi < 0 || lo < 0) return -1;
  return (hi << 4) | lo;
}

function decodeUtf8Run(bytes: number[]): string {
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    let kept = '';
    for (const b of bytes) kept += pct(b);
    return kept;
  }
}

/**
 * RFC 3986 dot-segment removal plus `//` merging, step for step as Kong's loop (the input always
 * starts with `/`, so every remaining suffix does too); null for a `..` above the root.
 */
function removeDotSegments(s: string): string | null {
  const n = s.length;
  if (n === 1) return s;
  const out: string[] = [];
  let i = 0;
  while (i < n) {
    const c2 = s.charCodeAt(i + 1);
    const c3 = s.charCodeAt(i + 2);
    if (c2 === DOT && i + 2 === n) {
      out.push('/'); // "/." at the end
      break;
    }
    if (c2 === DOT && c3 === DOT && i + 3 === n) {
      if (out.pop() === undefined) return null; // "/.." at the end
      out.push('/');
      break;
    }
    if (c2 === DOT && c3 === SLASH) {
      i += 2; // "/./"
      continue;
    }
    if (c2 === DOT && c3 === DOT && s.charCodeAt(i + 3) === SLASH) {
      i += 3; // "/../"
      if (out.pop() === undefined) return null;
      continue;
    }
    if (c2 === SLASH) {
      i += 1; // "//"
      continue;
    }
    let j = s.indexOf('/', i + 1);
    if (j === -1) j = n;
    out.push(s.slice(i, j));
    i = j;
  }
  return out.length === 1 ? out[0] : out.join('');
}
