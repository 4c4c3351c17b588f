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

/** What one walk over an upstream head found (scanHead): everything framing and writing need. */
export interface HeadScan {
  /** Bit i set: name/value pair i is not passed through. Pairs past the 32nd are classified again when written. */
  headSkip: number;
  /** The first Server value, or null. */
  headServer: Buffer | null;
  /** The Via values joined, or null. */
  headVia: string | null;
  /** The (last) Content-Length value, -1 when there is none or it is not a plain decimal. */
  headLength: number;
  /** A Content-Length header is present, whatever its value. */
  headHasLength: boolean;
  /** The Connection values joined, or null. */
  headConnection: string | null;
}

/** The bits of HeadScan.headSkip. */
export const SKIP_BITS = 32;

/** Classifies every name of `raw` once, into `into`. */
export function scanHead(raw: readonly Buffer[], into: HeadScan): void {
  let skip = 0;
  let server: Buffer | null = null;
  let via: string | null = null;
  let length = -1;
  let hasLength = false;
  let connection: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const kind = headerKind(raw[i]);
    if (kind === KIND.PASS) continue;
    const pair = i >> 1;
    if (pair < SKIP_BITS) skip |= 1 << pair;
    switch (kind) {
      case KIND.CONTENT_LENGTH:
        hasLength = true;
        length = parseLength(raw[i + 1]);
        break;
      case KIND.CONNECTION: {
        const v = raw[i + 1].toString('latin1');
        connection = connection === null ? v : `${connection}, ${v}`;
        break;
      }
      case KIND.SERVER:
        server ??= raw[i + 1];
        break;
      case KIND.VIA: {
        const v = raw[i + 1].toString('latin1');
        via = via === null ? v : `${via}, ${v}`;
        break;
      }
    }
  }
  into.headSkip = skip;
  into.headServer = server;
  into.headVia = via;
  into.headLength = length;
  into.headHasLength = hasLength;
  into.headConnection = connection;
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
