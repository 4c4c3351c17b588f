// IP ranges (src/lib/cidr.ts): IPv4 and IPv6 prefixes, IPv4-mapped addresses, invalid entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileIpMatcher, parseCidr, parseIpv6 } from '../../../src/lib/cidr';

/** Every address in `yes` matches, none in `no` does. */
function check(entries: string[], yes: string[], no: string[]): void {
  const m = compileIpMatcher(entries);
  for (const ip of yes) assert.equal(m(ip), true, `${ip} should be in ${entries.join(', ')}`);
  for (const ip of no) assert.equal(m(ip), false, `${ip} should not be in ${entries.join(', ')}`);
}

test('parseIpv6 reads compressed, full, mixed and uWS spellings', () => {
  assert.deepEqual([...parseIpv6('::1')!], [0, 0, 0, 1]);
  assert.deepEqual([...parseIpv6('2001:db8::')!], [0x20010db8, 0, 0, 0]);
  assert.deepEqual([...parseIpv6('0000:0000:0000:0000:0000:ffff:7f00:0001')!], [0, 0, 0xffff, 0x7f000001]);
  assert.deepEqual([...parseIpv6('::ffff:127.0.0.1')!], [0, 0, 0xffff, 0x7f000001]);
  assert.deepEqual([...parseIpv6('1:2:3:4:5:6:7:8')!], [0x10002, 0x30004, 0x50006, 0x70008]);
  for (const bad of ['', ':', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1:2:3:4:5:6:7', '::1.2.3', '1.2.3.4']) {
    assert.equal(parseIpv6(bad), null, bad);
  }
});

test('IPv4 CIDRs, host bits ignored', () => {
  check(['10.0.0.0/8', '192.168.1.7'], ['10.0.0.1', '10.255.255.255', '192.168.1.7'], ['11.0.0.1', '192.168.1.8', '::1']);
  check(['127.0.0.1/8'], ['127.9.9.9'], ['128.0.0.1']);
  check(['0.0.0.0/0'], ['1.2.3.4', '255.255.255.255'], ['::1', '2001:db8::1']);
});

test('IPv6 /0 holds every IPv6 address but no plain IPv4 one (as resty.ipmatcher)', () => {
  check(['::/0'], ['::1', '2001:db8::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], ['1.2.3.4']);
});

test('IPv6 /48 and /64 compare the prefix, not the whole address', () => {
  check(
    ['2001:db8:abcd::/48'],
    ['2001:db8:abcd::1', '2001:db8:abcd:ffff:ffff:ffff:ffff:ffff', '2001:0DB8:ABCD:0012::9'],
    ['2001:db8:abce::1', '2001:db8::1', '::1'],
  );
  check(
    ['2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2:aaaa:bbbb:cccc:dddd'],
    ['2001:db8:1:3::1', '2001:db8:1::1'],
  );
  // A prefix that does not fall on a group boundary.
  check(['2001:db8::/33'], ['2001:db8:7fff::1'], ['2001:db8:8000::1']);
});

test('IPv6 /128 and bare addresses are exact, whatever the spelling', () => {
  check(['2001:db8::1/128', '::1'], ['2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '0000:0000:0000:0000:0000:0000:0000:0001'], ['2001:db8::2', '::2']);
});

test('IPv4-mapped addresses: a mapped client is its IPv4 address, a mapped entry of /96+ is an IPv4 range', () => {
  check(['10.0.0.0/8'], ['::ffff:10.1.2.3', '0000:0000:0000:0000:0000:ffff:0a01:0203'], ['::ffff:11.1.2.3', '::10.1.2.3']);
  check(['::ffff:10.0.0.0/104'], ['10.1.2.3', '::ffff:10.200.0.1'], ['11.0.0.1', '::ffff:11.0.0.1']);
  check(['::ffff:0:0/96'], ['1.2.3.4', '::ffff:1.2.3.4'], ['::1']);
  // A mapped client also matches IPv6 ranges by its IPv6 value.
  check(['::/0'], ['::ffff:1.2.3.4'], []);
});

test('parseCidr rejects what Kong rejects', () => {
  for (const bad of ['hello', '0.0.0.0/a', '0.0.0.0/-1', '0.0.0.0/33', '::/a', '::/-1', '::/129', '::1/129', '1.2.3.4/', '256.0.0.1', '1.2.3.4/8/9', 'unix:']) {
    assert.equal(parseCidr(bad), null, bad);
  }
  for (const good of ['::/0', '::/1', '::/128', '127.0.0.1/8', '0.0.0.0/0', '::ffff:1.2.3.4/120']) {
    assert.notEqual(parseCidr(good), null, good);
  }
});

test('entries that are not addresses are skipped, an empty list matches nothing', () => {
  check(['unix:', '10.0.0.1'], ['10.0.0.1'], ['10.0.0.2']);
  check([], [], ['1.2.3.4', '::1']);
});
