/** Query strings, urlencoded forms and flat JSON objects as ordered name → value pairs. */
export type Pairs = [string, string | unknown][];

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

export function parseQuery(query: string): Pairs {
  if (query === '') return [];
  return query.split('&').filter((s) => s !== '').map((kv) => {
    const i = kv.indexOf('=');
    return i === -1 ? [decode(kv), true] : [decode(kv.slice(0, i)), decode(kv.slice(i + 1))];
  });
}

export function encodeQuery(pairs: Pairs): string {
  return pairs.map(([k, v]) => (v === true ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)).join('&');
}

export function readForm(body: Buffer): Pairs {
  return parseQuery(body.toString('latin1'));
}

export function writeForm(pairs: Pairs): Buffer {
  return Buffer.from(encodeQuery(pairs));
}

/** A JSON object's entries, or null when the body is not a JSON object. */
export function readJson(body: Buffer): Pairs | null {
  if (body.length === 0) return [];
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v) : null;
  } catch {
    return null;
  }
}

/** Pairs back to a JSON object; repeated names (append) become arrays, as Kong's append does. */
export function writeJson(pairs: Pairs): Buffer {
  const out: Record<string, unknown> = {};
  for (const [k, v] of pairs) {
    if (!Object.prototype.hasOwnProperty.call(out, k)) out[k] = v;
    else out[k] = Array.isArray(out[k]) ? [...(out[k] as unknown[]), v] : [out[k], v];
  }
  return Buffer.from(JSON.stringify(out));
}
