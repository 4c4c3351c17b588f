/** Kong's dns_* settings: from the `hyperway:` block and from HYPERWAY_* / KONG_* variables. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSettings } from '../../src/primary/config/settings';

test('dns_* settings parse from the block, KONG_* and HYPERWAY_* (which wins)', () => {
  const { settings, problems } = resolveSettings(
    { dns_resolver: '127.0.0.1:8600, [::1]:53, 10.0.0.2', dns_order: 'last,srv,a,aaaa', dns_stale_ttl: 10, dns_no_sync: 'on', dns_hostsfile: '/tmp/hosts' },
    { KONG_DNS_NOT_FOUND_TTL: '5', KONG_DNS_ERROR_TTL: '3', HYPERWAY_DNS_ERROR_TTL: '0.5' },
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(
    [settings.dnsResolver, settings.dnsOrder, settings.dnsStaleTtl, settings.dnsNotFoundTtl, settings.dnsErrorTtl, settings.dnsNoSync, settings.dnsHostsfile],
    [['127.0.0.1:8600', '[::1]:53', '10.0.0.2'], ['LAST', 'SRV', 'A', 'AAAA'], 10, 5, 0.5, true, '/tmp/hosts'],
  );
});

test('a nameserver must be an address, dns_order only knows record types', () => {
  const { problems } = resolveSettings({ dns_resolver: ['consul.local:8600'], dns_order: 'SRV,MX', dns_stale_ttl: -1 }, {});
  assert.deepEqual(problems.map((p) => p.path).sort(), ['hyperway.dns_order', 'hyperway.dns_resolver', 'hyperway.dns_stale_ttl']);
  assert.match(problems.find((p) => p.path === 'hyperway.dns_resolver')?.message ?? '', /expected <ip>\[:<port>\]/);
});
