/**
 * Deterministic ids as Kong's declarative loader makes them (`declarative_config.lua`
 * `generate_uuid`): UUIDv5(UUIDv5(KONG_NAMESPACE, entity), key).
 */
const KONG_NAMESPACE = 'fd02801f-0957-4a15-a55a-c8d9606f30b5';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

const nsBytes = new Map<string, Buffer>();

/** Namespace bytes followed by the name, then SHA-1's padding: reused for every id. */
let scratch = Buffer.alloc(256);
/** The id's 36 characters are written here, then read out as one flat string. */
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** SHA-1's message schedule and the digest's five words, reused. */
const W = new Int32Array(80);
const H = new Int32Array(5);
const digest = Buffer.alloc(20);

/**
 * SHA-1 (FIPS 180-4) of scratch[0, length), written into `digest`. In JS rather than
 * crypto.hash(): an id hashes one or two 64-byte blocks, and the native call's fixed cost was most
 * of the 0.3 s that 210,000 generated ids took (test/unit/config/uuid.test.ts checks it against
 * node:crypto).
 */
function sha1(length: number): void {
  // uuidv5() keeps scratch at least 72 bytes longer than the message: room for the padding.
  const padded = (length + 9 + 63) & ~63;
  // The padding and the bit length written byte by byte: Buffer's fill() and writeUInt32BE() are
  // calls of their own, for a handful of bytes.
  scratch[length] = 0x80;
  for (let i = length + 1; i < padded - 8; i++) scratch[i] = 0;
  const high = length >>> 29;
  const low = (length << 3) >>> 0;
  scratch[padded - 8] = high >>> 24;
  scratch[padded - 7] = (high >>> 16) & 0xff;
  scratch[padded - 6] = (high >>> 8) & 0xff;
  scratch[padded - 5] = high & 0xff;
  scratch[padded - 4] = low >>> 24;
  scratch[padded - 3] = (low >>> 16) & 0xff;
  scratch[padded - 2] = (low >>> 8) & 0xff;
  scratch[padded - 1] = low & 0xff;
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  for (let off = 0; off < padded; off += 64) {
    for (let i = 0; i < 16; i++) {
      const j = off + 4 * i;
      W[i] = (scratch[j] << 24) | (scratch[j + 1] << 16) | (scratch[j + 2] << 8) | scratch[j + 3];
    }
    for (let i = 16; i < 80; i++) {
      const x = W[i - 3] ^ W[i - 8] ^ W[i - 14] ^ W[i - 16];
      W[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + W[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  H[0] = h0;
  H[1] = h1;
  H[2] = h2;
  H[3] = h3;
  H[4] = h4;
  for (let i = 0; i < 5; i++) digest.writeInt32BE(H[i], 4 * i);
}

/**
 * An ASCII name (its UTF-8 bytes are its char codes) copied to scratch[16…] in JS: its length, or
 * -1 for a name with another character or too long for scratch (then Buffer.write() does it).
 */
function writeAscii(name: string): number {
  const n = name.length;
  if (16 + n + 72 > scratch.length) return -1;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x80) return -1;
    scratch[16 + i] = c;
  }
  return n;
}

/** RFC 4122 name-based UUID, SHA-1 (version 5). */
export function uuidv5(name: string, namespace: string): string {
  let ns = nsBytes.get(namespace);
  if (ns === undefined) {
    ns = uuidBytes(namespace);
    if (nsBytes.size < 64) nsBytes.set(namespace, ns);
  }
  let nameLength = writeAscii(name);
  if (nameLength < 0) {
    nameLength = Buffer.byteLength(name, 'utf8');
    if (16 + nameLength + 72 > scratch.length) scratch = Buffer.alloc(2 * (16 + nameLength + 72));
    scratch.write(name, 16, nameLength, 'utf8');
  }
  for (let i = 0; i < 16; i++) scratch[i] = ns[i];
  sha1(16 + nameLength);
  const d = digest;
  // Version 5 in the high nibble of byte 6, variant 10xx in the high bits of byte 8.
  d[6] = (d[6] & 0x0f) | 0x50;
  d[8] = (d[8] & 0x3f) | 0x80;
  // Hex written byte by byte and read out once: the id is one flat 36-character string. Built
  // from slices of a hex digest (a template of nine parts) each id was a tree of strings, about
  // 400 bytes instead of 56, that every id kept, and that the GC copied, until it was flattened.
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[o++] = 0x2d;
    text[o++] = HEX[d[i] >> 4];
    text[o++] = HEX[d[i] & 15];
  }
  return text.toString('latin1', 0, 36);
}

const namespaces = new Map<string, string>();

export function entityUuid(entity: string, key: string): string {
  let ns = namespaces.get(entity);
  if (!ns) {
    ns = uuidv5(entity, KONG_NAMESPACE);
    namespaces.set(entity, ns);
  }
  return uuidv5(key, ns);
}
