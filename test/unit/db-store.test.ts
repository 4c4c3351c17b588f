import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyEntitySet, ENTITY_ORDER } from '../../src/primary/config';
import { ENTITY_TABLES } from '../../src/primary/db/schema';
import { MIGRATIONS } from '../../src/primary/db/migrations';
import { cachePath, readCache, writeCache } from '../../src/primary/db/cache';
import { describeDb } from '../../src/primary/db/pool';
import { lostDatabase } from '../../src/primary/db/pg-store';
import { DEFAULT_SETTINGS } from '../../src/shared/settings';

test('every entity the store holds has a table (an entity added without one would break DB mode)', () => {
  assert.deepEqual([...ENTITY_TABLES].sort(), [...ENTITY_ORDER].sort());
  const all = MIGRATIONS.map((m) => m.up).join('\n');
  for (const t of ENTITY_TABLES) assert.match(all, new RegExp(`CREATE TABLE "${t}" \\(`));
  // Constraints are checked at commit: one transaction may apply a diff in any order.
  const constraints = all.split('\n').filter((l) => /REFERENCES|UNIQUE/.test(l));
  assert.ok(constraints.length >= 20);
  for (const line of constraints) assert.match(line, /DEFERRABLE INITIALLY DEFERRED,?$/);
});

test('the local cache: written and read back; one file per database; a broken one reads as none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hyperway-db-cache-test-'));
  try {
    const a = describeDb(DEFAULT_SETTINGS);
    const b = describeDb({ ...DEFAULT_SETTINGS, pgDatabase: 'other' });
    assert.notEqual(cachePath('', a), cachePath('', b));
    assert.equal(cachePath(join(dir, 'set.json'), a), join(dir, 'set.json'));
    const file = join(dir, 'cache.json');
    assert.equal(readCache(file), null);
    const entities = emptyEntitySet();
    entities.services.push({ id: '8abdc7bf-94c2-55eb-a8e3-4412316d1b02', name: 's', host: 'h' });
    writeCache(file, a, { entities, version: 7 });
    const back = readCache(file);
    assert.equal(back?.version, 7);
    assert.deepEqual(back?.entities, entities);
    writeFileSync(file, '{"hyperway_db_cache": 1, "entities": ');
    assert.equal(readCache(file), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lost database (503, catch up later) is told apart from a change the database refuses (500)', () => {
  const err = (code?: string): Error & { code?: string } => Object.assign(new Error('x'), code === undefined ? {} : { code });
  for (const c of [undefined, 'ECONNREFUSED', 'EPIPE', 'ECONNRESET', '08006', '57P01', '53300']) assert.equal(lostDatabase(err(c)), true, String(c));
  for (const c of ['23505', '23503', '22P02', '42P01']) assert.equal(lostDatabase(err(c)), false, c);
});
