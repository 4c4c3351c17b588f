/**
 * Kong's `dns_hostsfile` (default /etc/hosts): names listed there resolve from the file, before
 * any DNS query, so `localhost` targets keep working without a nameserver. Read once per
 * settings change, as Kong reads it once at start.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** Lowercased name → its addresses, in file order (IPv4 and IPv6 together). */
export function readHostsFile(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const raw of text.split('\n')) {
    const words = raw.replace(/#.*$/, '').trim().split(/\s+/);
    if (words.length < 2 || isIP(words[0].split('%')[0]) === 0) continue;
    const ip = words[0].split('%')[0];
    for (const name of words.slice(1)) {
      const n = name.toLowerCase();
      const list = out.get(n) ?? [];
      if (!list.includes(ip)) list.push(ip);
      out.set(n, list);
    }
  }
  return out;
}
