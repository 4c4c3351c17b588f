/**
 * The upstream's response headers as undici's parser hands them over: a flat list of Buffers
 * [name, value, …] with the bytes as received. The gateway classifies names by length and then
 * case-insensitive bytes — no string per header, no lowercasing, no object — and writes the
 * Buffers to uWS unchanged (so non-ASCII bytes survive exactly).
 */
export const KIND = { PASS: 0, SKIP: 1, CONTENT_LENGTH: 2, SERVER: 3, VIA: 4, CONNECTION: 5 } as const;

/** Lowercase names by length; hop-by-hop headers, and those uWS writes itself, are skipped. */
const BY_LENGTH: Array<Array<[Buffer, number]>> = [];
for (const [name, kind] of [
  ['connection', KIND.CONNECTION], ['keep-alive', KIND.SKIP], ['proxy-connection', KIND.SKIP],
  ['transfer-encoding', KIND.SKIP], ['upgrade', KIND.SKIP], ['te', KIND.SKIP], ['trailer', KIND.SKIP],
  ['content-length', KIND.CONTENT_LENGTH], ['date', KIND.SKIP], ['server', KIND.SERVER], ['via', KIND.VIA],
] as const) {
  (BY_LENGTH[name.length] ??= []).push([Buffer.from(name, 'latin1'), kind]);
}

/** What the gateway does with a response header name. Names are tokens: `| 0x20` lowercases letters. */
export function headerKind(name: Buffer): number {
  const candidates = BY_LENGTH[name.length];
  if (candidates === undefined) return KIND.PASS;
  next: for (let c = 0; c < candidates.length; c++) {
    const lower = candidates[c][0];
    for (let i = 0; i < lower.length; i++) if ((name[i] | 0x20) !== lower[i]) continue next;
    return candidates[c][1];
  }
  return KIND.PASS;
}

/** A Content-Length value as a number, or -1 when it is not a plain decimal. */
export function parseLength(value: Buffer): number {
  if (value.length === 0 || value.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value[i] - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
