// The ip-restriction handler against a FakeContext (Kong's spec/03-plugins/17-ip-restriction/02-access_spec.lua
// cases): deny before allow, IPv4 and IPv6 ranges, status and message, the client address the core computed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler, type IpRestrictionConf } from '../../../src/plugins/ip-restriction/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import { FakeContext } from '../fake-context';
import { doc, load } from '../../unit/config/helpers';

const ENV = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });

function conf(yaml: string): IpRestrictionConf {
  return handler.configure!(load(doc(`plugins:\n  - name: ip-restriction\n    config:\n${yaml}`)).snapshot.plugins[0].config, ENV);
}

/** The rejection for a client address, or null when the request goes on. */
function verdict(c: IpRestrictionConf, clientIp: string, remoteIp = clientIp): { status: number; message: unknown } | null {
  const ctx = new FakeContext({ clientIp, remoteIp });
  void handler.access!(ctx, c);
  if (!ctx.exitRecord) return null;
  assert.equal(ctx.exitRecord.kind, 'error', 'a rejection is kong.response.error');
  return { status: ctx.exitRecord.status, message: ctx.exitRecord.body };
}

test('priority is Kong\'s 990', () => {
  assert.equal(handler.priority, 990);
});

test('deny: listed addresses and ranges get 403 with the address in Kong 3.10\'s message', () => {
  const c = conf('      deny: [127.0.0.1, 10.0.0.0/8]\n');
  assert.deepEqual(verdict(c, '127.0.0.1'), { status: 403, message: 'IP address not allowed: 127.0.0.1' });
  assert.deepEqual(verdict(c, '10.20.30.40'), { status: 403, message: 'IP address not allowed: 10.20.30.40' });
  assert.equal(verdict(c, '127.0.0.2'), null);
});

test('allow: addresses outside the list are rejected', () => {
  const c = conf('      allow: [127.0.0.2, 192.168.0.0/16]\n');
  assert.equal(verdict(c, '127.0.0.2'), null);
  assert.equal(verdict(c, '192.168.77.1'), null);
  assert.deepEqual(verdict(c, '127.0.0.1'), { status: 403, message: 'IP address not allowed: 127.0.0.1' });
});

test('deny wins over allow', () => {
  const c = conf('      allow: [10.0.0.0/8]\n      deny: [10.0.0.5]\n');
  assert.notEqual(verdict(c, '10.0.0.5'), null);
  assert.equal(verdict(c, '10.0.0.6'), null);
});

test('IPv6 addresses and prefixes', () => {
  const c = conf('      allow: ["2001:db8:abcd::/48", "::1"]\n');
  assert.equal(verdict(c, '2001:db8:abcd:12::7'), null);
  assert.equal(verdict(c, '0000:0000:0000:0000:0000:0000:0000:0001'), null);
  assert.deepEqual(verdict(c, '2001:db8:abce::7'), { status: 403, message: 'IP address not allowed: 2001:db8:abce::7' });
  assert.notEqual(verdict(c, '10.0.0.1'), null, 'an IPv4 client is outside an IPv6-only allow list');
});

test('status and message replace the defaults', () => {
  const c = conf('      deny: [127.0.0.1]\n      status: 401\n      message: Forbidden\n');
  assert.deepEqual(verdict(c, '127.0.0.1'), { status: 401, message: 'Forbidden' });
});

test('the client address is the one after trusted_ips/real_ip_header, not the TCP peer', () => {
  const c = conf('      deny: [203.0.113.9]\n');
  assert.deepEqual(verdict(c, '203.0.113.9', '127.0.0.1'), { status: 403, message: 'IP address not allowed: 203.0.113.9' });
  assert.equal(verdict(c, '127.0.0.1', '203.0.113.9'), null);
});
