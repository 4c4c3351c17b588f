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

/** RFC 4122 name-based UUID, SHA-1 (version 5). */
export function uuidv5(name: string, namespace: string): string {
  let ns = nsBytes.get(namespace);
  if (ns === undefined) {
    ns = uuidBytes(namespace);
    if (nsBytes.size < 64) nsBytes.set(namespace, ns);
  }
  // One-shot hash: a Hash object per id cost a third of validating 200,000 entities.
  const nameLength = Buffer.byteLength(name, 'utf8');
  const input = Buffer.allocUnsafe(16 + nameLength);
  ns.copy(input, 0);
  input.write(name, 16, nameLength, 'utf8');
  const h = hash('sha1', input, 'buffer');
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
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
