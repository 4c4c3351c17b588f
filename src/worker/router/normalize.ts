/**
 * The re-escape applied before proxying (`kong/tools/uri.lua escape`). Request-path normalization
 * lives in lib/uri-normalize.ts (the primary's config check uses it too) and is re-exported here.
 */
import { pct } from '../../lib/uri-normalize';
import { alphanumericPlus } from '../../lib/http-chars';

export { normalizePath } from '../../lib/uri-normalize';

/** Bytes Kong's escape leaves alone: ``[!#$&'()*+,/:;=?@[\]A-Za-z0-9\-_.~%]``. */
const UNESCAPED = alphanumericPlus("!#$&'()*+,/:;=?@[]-_.~%");

/**
 * Kong's escape of the upstream path: every byte outside
 * ``[!#$&'()*+,/:;=?@[\]A-Za-z0-9\-_.~%]`` becomes `%XX` (non-ASCII as its UTF-8 bytes).
 * Returns the input itself when nothing needs escaping.
 */
export function escapeUpstreamPath(p: string): string {
  const n = p.length;
  let i = 0;
  while (i < n) {
    const c = p.charCodeAt(i);
    if (c >= 128 || UNESCAPED[c] === 0) break;
    i++;
  }
  if (i === n) return p;
  let out = p.slice(0, i);
  while (i < n) {
    const c = p.charCodeAt(i);
    if (c < 128) {
      out += UNESCAPED[c] === 1 ? p[i] : pct(c);
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n && p.charCodeAt(j) >= 128) j++;
    for (const b of Buffer.from(p.slice(i, j), 'utf8')) out += pct(b);
    i = j;
  }
  return out;
}
