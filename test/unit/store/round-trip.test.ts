/**
 * The entity store's promise: the validated entities a file loads to, written back with
 * toDeclarative(), load to the same snapshot (same ids, same defaults, same references). If a
 * validator's output did not load again as input, every Admin API change would fail or drift.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadConfigText } from '../../../src/primary/config';
import { MemoryEntities } from '../../../src/primary/store/memory';
import type { Snapshot } from '../../../src/shared/snapshot';
import { SEEDS } from '../config/helpers';

const EVERYTHING = {
  _format_version: '3.0',
  hyperway: { log_level: 'warn' },
  services: [
    {
      name: 's1',
      url: 'https://api.example.com:8443/v1',
      retries: 2,
      tags: ['a', 'b'],
      routes: [
        { name: 'r1', paths: ['/one', '~/items/(?<id>\\d+)$'], methods: ['GET'], hosts: ['*.Example.com'], headers: { 'X-Env': ['prod'] }, strip_path: false },
        { paths: ['/unnamed'], plugins: [{ name: 'cors', config: { origins: ['https://a.example'] } }] },
      ],
      plugins: [{ name: 'request-transformer', config: { add: { headers: ['x-a:1'] } } }],
    },
    { name: 's2', host: 'pool', port: 80 },
  ],
  upstreams: [{ name: 'pool', algorithm: 'least-connections', healthchecks: { active: { healthy: { interval: 5 } } }, targets: [{ target: '10.0.0.1:81', weight: 5 }, { target: 'Backend.local' }] }],
  consumers: [
    {
      username: 'alice',
      custom_id: 'c-1',
      keyauth_credentials: [{ key: 'k1' }],
      basicauth_credentials: [{ username: 'alice', password: 'pw' }],
      jwt_secrets: [{ key: 'iss', secret: 's3cret' }],
      acls: [{ group: 'admins' }],
      plugins: [{ name: 'request-termination', config: { status_code: 403 } }],
    },
  ],
  plugins: [{ name: 'key-auth', config: { key_names: ['apikey'] } }, { name: 'correlation-id' }],
};

function withoutHash(s: Snapshot): Omit<Snapshot, 'hash'> {
  const { hash: _hash, ...rest } = s;
  return rest;
}

function roundTrip(text: string, name: string): void {
  const first = loadConfigText(text, name, {}, 1);
  const doc = new MemoryEntities(first.entities, (parse(text) as { hyperway?: unknown }).hyperway).toDeclarative();
  const second = loadConfigText(JSON.stringify(doc), `${name} (from the store)`, {}, 1);
  assert.deepEqual(withoutHash(second.snapshot), withoutHash(first.snapshot));
  assert.deepEqual(second.entities, first.entities);
}

test('every entity kind, nested and top level, with defaults and shorthands: store → document → same snapshot', () => {
  roundTrip(stringify(EVERYTHING), 'everything.yml');
});

test('entities carry Kong field names, ids and foreign keys as { id }', () => {
  const { entities } = loadConfigText(stringify(EVERYTHING), 'everything.yml', {}, 1);
  const s1 = entities.services.find((s) => s.name === 's1')!;
  assert.equal(s1.protocol, 'https');
  assert.equal(s1.port, 8443);
  assert.equal(s1.path, '/v1');
  assert.equal(s1.connect_timeout, 60000);
  const r1 = entities.routes.find((r) => r.name === 'r1')!;
  assert.deepEqual(r1.service, { id: s1.id });
  const target = entities.targets.find((t) => t.weight === 5)!;
  assert.deepEqual(target.upstream, { id: entities.upstreams[0].id });
  const global = entities.plugins.find((p) => p.name === 'key-auth')!;
  assert.equal(global.service, null);
  assert.equal(global.route, null);
});

const seed3 = path.join(SEEDS, 'seed3-microservices.kong.yml');
test('seed3 round-trips through the store', { skip: existsSync(seed3) ? false : `not found: ${seed3}` }, () => {
  roundTrip(readFileSync(seed3, 'utf8'), seed3);
});
