import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { entityUuid, uuidv5 } from '../../../src/primary/config/uuid';

/** RFC 4122 version 5 with node:crypto's SHA-1: what uuid.ts's own SHA-1 must agree with. */
function reference(name: string, namespace: string): string {
  const h = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

test('uuidv5 agrees with a node:crypto SHA-1 for every name length across the padding boundaries', () => {
  const ns = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
  // 16 namespace bytes + the name: 55/56 and 64 bytes are where SHA-1's padding needs a second block.
  for (let n = 0; n <= 300; n++) {
    const name = 'k'.repeat(n);
    assert.equal(uuidv5(name, ns), reference(name, ns), `name of ${n} bytes`);
  }
  for (const name of ['é', 'consumer:ü/日本', '\u{1F600}'.repeat(30), 'x'.repeat(5000)]) assert.equal(uuidv5(name, ns), reference(name, ns), name.slice(0, 20));
});

test('uuidv5 agrees with node:crypto for ASCII names copied in JS and the characters just past ASCII, in any order of lengths', () => {
  const ns = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
  const names = ['a\u007f', '\u0080', 'x\u00ff', 'key-1-\u00e9', 'y'.repeat(400), 'short', '', 'z'.repeat(3000), 'c1', '\u0000'];
  for (let n = 300; n >= 0; n -= 7) names.push('q'.repeat(n));
  for (const name of names) assert.equal(uuidv5(name, ns), reference(name, ns), `${name.slice(0, 20)} (${name.length})`);
});

test('entityUuid is uuidv5 of the key under the entity name\'s uuidv5 (Kong\'s generate_uuid)', () => {
  const kong = 'fd02801f-0957-4a15-a55a-c8d9606f30b5';
  for (const [entity, key] of [['consumers', 'c5'], ['keyauth_credentials', 'key-5-6ekos5'], ['routes', 'r9999']]) {
    assert.equal(entityUuid(entity, key), reference(key, reference(entity, kong)));
  }
});
