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
const VARIANT = '89ab';

/** RFC 4122 name-based UUID, SHA-1 (version 5). */
export function uuidv5(name: string, namespace: string): string {
  let ns = nsBytes.get(namespace);
  if (ns === undefined) {
    ns = uuidBytes(namespace);
    if (nsBytes.size < 64) nsBytes.set(namespace, ns);
  }
  // One-shot hash into hex, over a view of one scratch buffer: a Hash object, or an input and an
  // output Buffer, per id cost most of assigning 200,000 ids (and their garbage).
  const nameLength = Buffer.byteLength(name, 'utf8');
  if (16 + nameLength > scratch.length) scratch = Buffer.alloc(2 * (16 + nameLength));
  ns.copy(scratch, 0);
  scratch.write(name, 16, nameLength, 'utf8');
  const hex = hash('sha1', scratch.subarray(0, 16 + nameLength), 'hex');
  // Version 5 in the high nibble of byte 6, variant 10xx in the high bits of byte 8.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${VARIANT[parseInt(hex[16], 16) & 3]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
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
