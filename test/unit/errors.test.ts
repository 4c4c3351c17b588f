// The README's error table lists exactly the codes declared in src/lib/errors.ts, with their statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, ConfigError, formatProblems } from '../../src/lib/errors';

const root = path.resolve(__dirname, '..', '..', '..');

test('README error table matches lib/errors.ts', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| `(HW_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
  const declared = Object.entries(ERROR_CODES).map(([code, v]) => [code, v.status]);
  assert.deepEqual(rows.sort(), declared.sort());
});

test('every HW_ERR_ code the sources use is declared in lib/errors.ts (and so in the README)', () => {
  const used = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) for (const m of fs.readFileSync(p, 'utf8').matchAll(/HW_ERR_[A-Z_]+[A-Z]/g)) used.add(m[0]);
    }
  };
  walk(path.join(root, 'src'));
  assert.deepEqual([...used].filter((c) => !(c in ERROR_CODES)).sort(), []);
});

test('ConfigError names the file, the field path and the line of every problem', () => {
  const err = new ConfigError('/etc/kong.yml', [
    { path: 'services[0].port', message: 'value should be between 0 and 65535', line: 4, column: 11 },
    { path: 'routes[1].paths[0]', message: 'should start with: / (fixed path) or ~/ (regex path)', line: 9, column: 9 },
  ]);
  assert.equal(err.code, 'HW_ERR_CONFIG_INVALID');
  assert.equal(
    err.message,
    '/etc/kong.yml: 2 errors in declarative config\n' +
      '  /etc/kong.yml:4:11: services[0].port: value should be between 0 and 65535\n' +
      '  /etc/kong.yml:9:9: routes[1].paths[0]: should start with: / (fixed path) or ~/ (regex path)',
  );
  assert.deepEqual(JSON.parse(JSON.stringify(err)).code, 'HW_ERR_CONFIG_INVALID');
  assert.match(formatProblems('f.yml', [{ path: '', message: 'x' }]), /f\.yml: \(root\): x/);
  assert.match(formatProblems('/errors/f.yml', [{ path: 'a', message: 'x' }], 'warning'), /^\/errors\/f\.yml: 1 warning in declarative config\n/);
});
