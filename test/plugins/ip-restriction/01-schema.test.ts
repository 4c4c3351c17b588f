// ip-restriction config through the real config loader: Kong 3.10's fields and messages
// (spec/03-plugins/17-ip-restriction/01-schema_spec.lua).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, lines, load, problems } from '../../unit/config/helpers';

const plugin = (config: string): string => doc(`plugins:\n  - name: ip-restriction\n    config:\n${config}`);

test('valid lists, CIDRs of both families, status and message', () => {
  const { snapshot } = load(plugin('      allow: [127.0.0.1, 127.0.0.1/8, "::/0", "::/1", "::/128", "2001:db8::/48"]\n      deny: [127.0.0.2]\n      status: 401\n      message: Forbidden\n'));
  assert.deepEqual(snapshot.plugins[0].config, {
    allow: ['127.0.0.1', '127.0.0.1/8', '::/0', '::/1', '::/128', '2001:db8::/48'],
    deny: ['127.0.0.2'],
    status: 401,
    message: 'Forbidden',
  });
  assert.deepEqual(snapshot.plugins[0].protocols, ['http', 'https', 'tcp', 'tls', 'grpc', 'grpcs']);
  const onlyDeny = load(plugin('      deny: [10.0.0.0/8]\n')).snapshot.plugins[0].config;
  assert.deepEqual(onlyDeny, { allow: null, deny: ['10.0.0.0/8'], status: null, message: null });
});

test('invalid addresses and ranges are reported with Kong\'s message and their index', () => {
  assert.deepEqual(
    lines(problems(plugin('      allow: [127.0.0.1, hello, 0.0.0.0/a, 0.0.0.0/-1, 0.0.0.0/33, "::/a", "::/-1", "::/129", "::1/129"]\n      deny: 12\n      status: x\n      message: 3\n'))),
    [
      "plugins[0].config.allow[1]: invalid ip or cidr range: 'hello'",
      "plugins[0].config.allow[2]: invalid ip or cidr range: '0.0.0.0/a'",
      "plugins[0].config.allow[3]: invalid ip or cidr range: '0.0.0.0/-1'",
      "plugins[0].config.allow[4]: invalid ip or cidr range: '0.0.0.0/33'",
      "plugins[0].config.allow[5]: invalid ip or cidr range: '::/a'",
      "plugins[0].config.allow[6]: invalid ip or cidr range: '::/-1'",
      "plugins[0].config.allow[7]: invalid ip or cidr range: '::/129'",
      "plugins[0].config.allow[8]: invalid ip or cidr range: '::1/129'",
      'plugins[0].config.deny: expected an array',
      'plugins[0].config.status: expected a number',
      'plugins[0].config.message: expected a string',
    ],
  );
});

test('at least one of allow and deny must be non-empty', () => {
  const expected = ["plugins[0].config: at least one of these fields must be non-empty: 'config.allow', 'config.deny'"];
  assert.deepEqual(lines(problems(plugin('      allow: []\n      deny: []\n'))), expected);
  assert.deepEqual(lines(problems(doc('plugins:\n  - name: ip-restriction\n'))), expected);
});
