/**
 * Kong's `kong/tools/uri.lua normalize(uri, true)`: the form the router compares prefix paths
 * against. A route prefix path that differs from its normalized form can never match, which is
 * why Kong rejects it with this form as the hint.
 */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

export function normalizePath(uri: string): string {
  // Decode escapes of unreserved characters; uppercase the hex of the others.
  let s = uri.replace(/%([0-9a-fA-F]{2})/g, (m, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
  s = s.replace(/\/{2,}/g, '/');
  return removeDotSegments(s);
}

/** RFC 3986 section 5.2.4. */
function removeDotSegments(input: string): string {
  const out: string[] = [];
  const segs = input.split('/');
  const trailing = segs[segs.length - 1] === '.' || segs[segs.length - 1] === '..';
  for (let i = 1; i < segs.length; i++) {
    const seg = segs[i];
    if (seg === '.') continue;
    if (seg === '..') {
      out.pop();
      continue;
    }
    out.push(seg);
  }
  let res = (input.startsWith('/') ? '/' : '') + out.join('/');
  if (trailing && !res.endsWith('/')) res += '/';
  return res === '' ? '/' : res;
}
