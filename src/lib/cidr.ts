/**
 * IP ranges for trusted_ips and ip-restriction: compiled once per snapshot into a matcher, so the
 * request path does integer compares only (one word for IPv4, four for IPv6).
 *
 * Families are matched separately, as Kong's resty.ipmatcher does (`::/0` does not hold 1.2.3.4),
 * with one bridge: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, also in uWS's uncompressed
 * `0000:…:ffff:7f00:0001` spelling) is also its IPv4 address. A mapped client matches IPv4 ranges
 * by that address and IPv6 ranges by its IPv6 value; a mapped entry of prefix 96 or more is also
 * the IPv4 range it maps (`::ffff:10.0.0.0/104` holds 10.1.2.3).
 */
export type IpMatcher = (ip: string) => boolean;

interface V4Range { base: number; mask: number }
/** Four big-endian 32-bit words of the address and of the mask. */
interface V6Range { base: Uint32Array; mask: Uint32Array }

export type IpRange = { family: 4; range: V4Range } | { family: 6; range: V6Range };

export function parseIpv4(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n >>> 0;
}

/** An IPv6 literal (no zone id, no brackets) as four 32-bit words, or null. */
export function parseIpv6(ip: string): Uint32Array | null {
  if (ip.length < 2 || ip.length > 45) return null;
  let text = ip;
  const lastColon = ip.lastIndexOf(':');
  if (ip.indexOf('.', lastColon) >= 0) {
    // A dotted IPv4 tail (`::ffff:1.2.3.4`) is the last two groups.
    const tail = parseIpv4(ip.slice(lastColon + 1));
    if (tail === null) return null;
    text = `${ip.slice(0, lastColon + 1)}${(tail >>> 16).toString(16)}:${(tail & 0xffff).toString(16)}`;
  }
  const dbl = text.indexOf('::');
  if (dbl !== text.lastIndexOf('::')) return null;
  let groups: string[];
  if (dbl >= 0) {
    const leftText = text.slice(0, dbl);
    const rightText = text.slice(dbl + 2);
    const left = leftText === '' ? [] : leftText.split(':');
    const right = rightText === '' ? [] : rightText.split(':');
    const missing = 8 - left.length - right.length;
    if (missing < 1) return null;
    groups = [...left, ...new Array<string>(missing).fill('0'), ...right];
  } else {
    groups = text.split(':');
  }
  if (groups.length !== 8) return null;
  const out = new Uint32Array(4);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return null;
    const g = parseInt(groups[i], 16);
    out[i >> 1] = i & 1 ? (out[i >> 1] | g) >>> 0 : (g << 16) >>> 0;
  }
  return out;
}

/** The IPv4 address an IPv4-mapped IPv6 address stands for (::ffff:a.b.c.d), or null. */
function mappedV4(w: Uint32Array): number | null {
  return w[0] === 0 && w[1] === 0 && w[2] === 0xffff ? w[3] : null;
}

function v4Mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * An address or CIDR (`10.0.0.0/8`, `2001:db8::/32`, `::1`) → a range, or null when invalid.
 * Host bits beyond the prefix are allowed and ignored (`127.0.0.1/8`), as Kong accepts them.
 */
export function parseCidr(entry: string): IpRange | null {
  const slash = entry.indexOf('/');
  const addr = slash < 0 ? entry : entry.slice(0, slash);
  const bitsText = slash < 0 ? null : entry.slice(slash + 1);
  if (bitsText !== null && !/^\d{1,3}$/.test(bitsText)) return null;
  const v4 = addr.includes(':') ? null : parseIpv4(addr);
  if (v4 !== null) {
    const bits = bitsText === null ? 32 : Number(bitsText);
    if (bits > 32) return null;
    const mask = v4Mask(bits);
    return { family: 4, range: { base: (v4 & mask) >>> 0, mask } };
  }
  const v6 = parseIpv6(addr);
  if (v6 === null) return null;
  const bits = bitsText === null ? 128 : Number(bitsText);
  if (bits > 128) return null;
  const mask = new Uint32Array(4);
  for (let i = 0; i < 4; i++) mask[i] = v4Mask(Math.max(0, Math.min(32, bits - 32 * i)));
  const base = new Uint32Array(4);
  for (let i = 0; i < 4; i++) base[i] = (v6[i] & mask[i]) >>> 0;
  return { family: 6, range: { base, mask } };
}

function inV6(w: Uint32Array, r: V6Range): boolean {
  return (
    ((w[0] & r.mask[0]) >>> 0) === r.base[0] &&
    ((w[1] & r.mask[1]) >>> 0) === r.base[1] &&
    ((w[2] & r.mask[2]) >>> 0) === r.base[2] &&
    ((w[3] & r.mask[3]) >>> 0) === r.base[3]
  );
}

function inV4(n: number, ranges: readonly V4Range[]): boolean {
  for (const r of ranges) if (((n & r.mask) >>> 0) === r.base) return true;
  return false;
}

/**
 * Builds a matcher; entries are IPv4/IPv6 addresses or CIDRs (`0.0.0.0/0` and `::/0` together hold
 * every address). Entries that are not addresses (trusted_ips' `unix:`) are skipped.
 */
export function compileIpMatcher(entries: readonly string[]): IpMatcher {
  const v4: V4Range[] = [];
  const v6: V6Range[] = [];
  for (const e of entries) {
    const r = parseCidr(e);
    if (r === null) continue;
    if (r.family === 4) {
      v4.push(r.range);
      continue;
    }
    v6.push(r.range);
    const mapped = mappedV4(r.range.base);
    const mappedBits = countBits(r.range.mask) - 96;
    if (mapped !== null && mappedBits >= 0) v4.push({ base: mapped, mask: v4Mask(mappedBits) });
  }
  if (v4.length === 0 && v6.length === 0) return () => false;
  return (ip: string): boolean => {
    if (!ip.includes(':')) {
      const n = parseIpv4(ip);
      return n !== null && inV4(n, v4);
    }
    const w = parseIpv6(ip);
    if (w === null) return false;
    for (const r of v6) if (inV6(w, r)) return true;
    const mapped = mappedV4(w);
    return mapped !== null && inV4(mapped, v4);
  };
}

function countBits(mask: Uint32Array): number {
  let n = 0;
  for (const word of mask) {
    let x = word;
    while (x !== 0) {
      n += x & 1;
      x >>>= 1;
    }
  }
  return n;
}
