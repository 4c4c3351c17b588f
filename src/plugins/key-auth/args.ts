/**
 * `name=value&…` lookups as OpenResty's `ngx.decode_args` / `get_uri_args` / `get_post_args` see
 * them (what Kong's `kong.request.get_query` and `get_body` return): `+` is a space, `%XX` a byte,
 * a malformed escape stays as written, a repeated name is a list, a name without `=` is `true`,
 * and only the first MAX_ARGS pairs count.
 */

/** OpenResty's default `max_args` for query and form arguments (Kong's lua_max_uri_args / lua_max_post_args). */
export const MAX_ARGS = 100;

/** Two or more values under one name: Kong's "Duplicate API key found". */
export const DUPLICATE: unique symbol = Symbol('hyperway.key-auth.duplicate');
/** A value that is not a string (`?apikey` alone, a JSON number): skipped, but it stops the search for this name. */
export const NOT_A_STRING: unique symbol = Symbol('hyperway.key-auth.not-a-string');

export type ArgValue = string | typeof DUPLICATE | typeof NOT_A_STRING | undefined;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * Decodes one name or value. `binary`: each char code is a byte (a body read as latin1);
 * otherwise chars are UTF-8 encoded (a JS string such as the query).
 */
export function unescapeArg(s: string, binary: boolean): string {
  if (!/[%+]/.test(s) && (!binary || /^[\x00-\x7f]*$/.test(s))) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 43) {
      bytes.push(32);
    } else if (c === 37 && i + 2 < s.length && hexValue(s.charCodeAt(i + 1)) >= 0 && hexValue(s.charCodeAt(i + 2)) >= 0) {
      bytes.push(hexValue(s.charCodeAt(i + 1)) * 16 + hexValue(s.charCodeAt(i + 2)));
      i += 2;
    } else if (c < 0x80 || (binary && c <= 0xff)) {
      bytes.push(c);
    } else {
      // A non-ASCII char of a JS string (a surrogate pair is encoded whole).
      const cp = s.codePointAt(i) as number;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** What `decode_args(raw)[name]` would give, without building the whole table. */
export function lookupArg(raw: string, name: string, binary: boolean): ArgValue {
  if (raw === '') return undefined;
  let found: ArgValue;
  let pairs = 0;
  let start = 0;
  while (start <= raw.length && pairs < MAX_ARGS) {
    let end = raw.indexOf('&', start);
    if (end < 0) end = raw.length;
    if (end > start) {
      pairs++;
      const seg = raw.slice(start, end);
      const eq = seg.indexOf('=');
      const rawName = eq < 0 ? seg : seg.slice(0, eq);
      if (unescapeArg(rawName, binary) === name) {
        if (found !== undefined) return DUPLICATE;
        found = eq < 0 ? NOT_A_STRING : unescapeArg(seg.slice(eq + 1), binary);
      }
    }
    start = end + 1;
  }
  return found;
}

/**
 * `raw` without any pair named `name`, the others kept as written and in order (Kong's
 * `kong.service.request.clear_query_arg`); null when no pair had that name.
 */
export function removeArg(raw: string, name: string, binary: boolean): string | null {
  if (raw === '') return null;
  const segs = raw.split('&');
  const kept = segs.filter((seg) => {
    const eq = seg.indexOf('=');
    return seg === '' || unescapeArg(eq < 0 ? seg : seg.slice(0, eq), binary) !== name;
  });
  return kept.length === segs.length ? null : kept.filter((s) => s !== '').join('&');
}
