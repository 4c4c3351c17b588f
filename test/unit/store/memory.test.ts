// MemoryEntities.deleteWhere: a cascade's children go in one pass; the others stay, in order.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { MemoryEntities } from '../../../src/primary/store/memory';

test('deleteWhere removes exactly the records it picks and keeps the rest in order', () => {
  const m = new MemoryEntities();
  for (let i = 0; i < 10; i++) m.put('acls', { id: `a${i}`, group: `g${i}`, consumer: { id: i % 3 === 0 ? 'c0' : 'c1' } });
  m.deleteWhere('acls', (r) => (r.consumer as { id: string }).id === 'c0');
  assert.deepEqual(m.list('acls').map((r) => r.id), ['a1', 'a2', 'a4', 'a5', 'a7', 'a8']);
  m.deleteWhere('acls', () => false);
  assert.equal(m.list('acls').length, 6);
  m.deleteWhere('acls', () => true);
  assert.deepEqual(m.list('acls'), []);
  // A later put still appends.
  m.put('acls', { id: 'b', group: 'g', consumer: { id: 'c2' } });
  assert.deepEqual(m.list('acls').map((r) => r.id), ['b']);
});
