/**
 * Deterministic ids as Kong's declarative loader makes them (`declarative_config.lua`
 * `generate_uuid`): UUIDv5(UUIDv5(KONG_NAMESPACE, entity), key).
 */
import { hash } from 'node:crypto';

const KONG_NAMESPACE = 'fd02801f-0957-4a15-a55a-c8d9606f30b5';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

const nsBytes = new Map<string, Buffer>();

/** Namespace bytes followed by the name: reused for every id (the hash reads a view of it). */
let scratch = Buffer.alloc(256);
/** The id's 36 characters are written here, then read out as one flat string. */
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** RFC 4122 name-based UUID, SHA-1 (version 5). */
export function uuidv5(name: string, namespace: string): string {
  let ns = nsBytes.get(namespace);
  if (ns === undefined) {
    ns = uuidBytes(namespace);
    if (nsBytes.size < 64) nsBytes.set(namespace, ns);
  }
  // One-shot hash over a view of one scratch buffer: a Hash object, or an input Buffer, per id
  // cost most of assigning 200,000 ids (and their garbage).
  const nameLength = Buffer.byteLength(name, 'utf8');
  if (16 + nameLength > scratch.length) scratch = Buffer.alloc(2 * (16 + nameLength));
  ns.copy(scratch, 0);
  scratch.write(name, 16, nameLength, 'utf8');
  const d = hash('sha1', scratch.subarray(0, 16 + nameLength), 'buffer') as unknown as Buffer;
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
