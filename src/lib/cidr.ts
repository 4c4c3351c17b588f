/**
 * CIDR membership for trusted_ips: compiled once per snapshot into a matcher, so the request path
 * does only integer compares for IPv4 and a string compare for IPv6 literals.
 */
export type IpMatcher = (ip: string) => boolean;

interface V4Range { base: number; mask: number }

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

/** Builds a matcher; entries are IPv4/IPv6 addresses or CIDRs (`0.0.0.0/0`, `::/0` trust all). */
export function compileIpMatcher(entries: readonly string[]): IpMatcher {
  const v4: V4Range[] = [];
  const v6 = new Set<string>();
  let allV4 = false;
  let allV6 = false;
  for (const e of entries) {
    const [addr, bitsText] = e.split('/');
    const v = parseIpv4(addr);
    if (v !== null) {
      const bits = bitsText === undefined ? 32 : Number(bitsText);
      if (bits === 0) allV4 = true;
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      v4.push({ base: (v & mask) >>> 0, mask });
    } else if (addr.includes(':')) {
      if (bitsText === '0') allV6 = true;
      else v6.add(addr.toLowerCase());
    }
  }
  if (v4.length === 0 && v6.size === 0 && !allV6) return () => false;
  return (ip: string): boolean => {
    if (ip.startsWith('::ffff:')) ip = ip.slice(7);
    if (ip.includes(':')) return allV6 || v6.has(ip.toLowerCase());
    if (allV4) return true;
    const n = parseIpv4(ip);
    if (n === null) return false;
    for (const r of v4) if (((n & r.mask) >>> 0) === r.base) return true;
    return false;
  };
}
