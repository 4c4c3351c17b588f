import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { resolveSettings } from '../../src/primary/config';

test('DB mode settings: kong.conf names in the block, KONG_* and HYPERWAY_* (HYPERWAY_ wins)', () => {
  const { settings, problems } = resolveSettings(
    { database: 'postgres', pg_host: 'db.internal', pg_port: 6432, pg_password: 1234, pg_ssl: 'on', db_update_frequency: 0.5 },
    { KONG_PG_USER: 'kong', KONG_PG_DATABASE: 'kongdb', HYPERWAY_PG_DATABASE: 'hw', KONG_PG_SCHEMA: 'gw', KONG_PG_TIMEOUT: '2000', KONG_PG_MAX_CONCURRENT_QUERIES: '8' },
  );
  assert.deepEqual(problems, []);
  assert.equal(settings.database, 'postgres');
  assert.equal(settings.pgHost, 'db.internal');
  assert.equal(settings.pgPort, 6432);
  assert.equal(settings.pgPassword, '1234');
  assert.equal(settings.pgUser, 'kong');
  assert.equal(settings.pgDatabase, 'hw');
  assert.equal(settings.pgSchema, 'gw');
  assert.equal(settings.pgSsl, true);
  assert.equal(settings.pgSslVerify, false);
  assert.equal(settings.pgTimeout, 2000);
  assert.equal(settings.pgMaxConcurrentQueries, 8);
  assert.equal(settings.dbUpdateFrequency, 0.5);
});

test('DB mode settings: defaults are file mode, and a wrong database is an error naming the choices', () => {
  assert.equal(resolveSettings(undefined, {}).settings.database, 'off');
  const { problems } = resolveSettings(undefined, { KONG_DATABASE: 'cassandra' });
  assert.equal(problems.length, 1);
  assert.match(problems[0].message, /off, postgres/);
  assert.match(problems[0].path, /KONG_DATABASE/);
});
