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

/**
 * A dotted IPv4 address (four decimal parts of 1–3 digits, each <= 255) as a number, or -1.
 * Scans characters: no split, no regex, nothing allocated (this runs per request for trusted_ips).
 */
function scanIpv4(ip: string, from: number, to: number): number {
  let n = 0;
  let parts = 0;
  let i = from;
  while (i < to) {
    const start = i;
    let v = 0;
    while (i < to && i - start < 4) {
      const d = ip.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || v > 255) return -1;
    n = n * 256 + v;
    parts++;
    if (i === to) break;
    if (ip.charCodeAt(i) !== 46 /* . */ || parts === 4) return -1;
    i++;
    if (i === to) return -1;
  }
  return parts === 4 ? n >>> 0 : -1;
}

export function parseIpv4(ip: string): number | null {
  const n = scanIpv4(ip, 0, ip.length);
  return n < 0 ? null : n;
}

/** The eight 16-bit groups of the address being scanned (one at a time: JS is single-threaded). */
const GROUPS = new Uint16Array(8);

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * An IPv6 literal (no zone id, no brackets) into four 32-bit words; false when it is not one.
 * Accepts what RFC 4291 §2.2 writes: groups of 1–4 hex digits, one `::`, a dotted IPv4 tail.
 */
export function scanIpv6(ip: string, out: Uint32Array): boolean {
  const len = ip.length;
  if (len < 2 || len > 45) return false;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (ip.charCodeAt(0) === 58 /* : */) {
    if (ip.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < len) {
    const start = i;
    let v = 0;
    let h: number;
    while (i < len && (h = hexDigit(ip.charCodeAt(i))) >= 0) {
      v = (v << 4) | (h & 15);
      i++;
      if (i - start > 4) break;
    }
    if (i < len && ip.charCodeAt(i) === 46 /* . */) {
      // The dotted IPv4 tail: the last two groups, and the end of the address.
      if (n > 6) return false;
      const tail = scanIpv4(ip, start, len);
      if (tail < 0) return false;
      GROUPS[n++] = tail >>> 16;
      GROUPS[n++] = tail & 0xffff;
      break;
    }
    const digits = i - start;
    if (digits === 0 || digits > 4 || n === 8) return false;
    GROUPS[n++] = v;
    if (i === len) break;
    if (ip.charCodeAt(i) !== 58) return false;
    i++;
    if (i < len && ip.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === len) {
      return false;
    }
  }
  if (gap < 0) {
    if (n !== 8) return false;
  } else {
    if (n > 7) return false;
    // Move the groups after `::` to the end; zeros fill the gap.
    const after = n - gap;
    for (let k = 0; k < after; k++) GROUPS[7 - k] = GROUPS[n - 1 - k];
    for (let k = gap; k < 8 - after; k++) GROUPS[k] = 0;
  }
  for (let k = 0; k < 4; k++) out[k] = ((GROUPS[2 * k] << 16) | GROUPS[2 * k + 1]) >>> 0;
  return true;
}

/** An IPv6 literal (no zone id, no brackets) as four 32-bit words, or null. */
export function parseIpv6(ip: string): Uint32Array | null {
  const out = new Uint32Array(4);
  return scanIpv6(ip, out) ? out : null;
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
  for (let i = 0; i < ranges.length; i++) if (((n & ranges[i].mask) >>> 0) === ranges[i].base) return true;
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
  const words = new Uint32Array(4);
  // Requests come from few addresses in a row (a load balancer, a keep-alive client): the last
  // verdict is reused for the same text, compared as a string (no parse).
  let lastIp = '';
  let lastVerdict = false;
  return (ip: string): boolean => {
    if (ip === lastIp) return lastVerdict;
    let verdict = false;
    if (ip.indexOf(':') === -1) {
      const n = scanIpv4(ip, 0, ip.length);
      verdict = n >= 0 && inV4(n, v4);
    } else if (scanIpv6(ip, words)) {
      for (let i = 0; i < v6.length && !verdict; i++) verdict = inV6(words, v6[i]);
      if (!verdict) {
        const mapped = mappedV4(words);
        verdict = mapped !== null && inV4(mapped, v4);
      }
    }
    lastIp = ip;
    lastVerdict = verdict;
    return verdict;
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
