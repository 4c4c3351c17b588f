// IP ranges (src/lib/cidr.ts): IPv4 and IPv6 prefixes, IPv4-mapped addresses, invalid entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileIpMatcher, parseCidr, parseIpv4, parseIpv6 } from '../../../src/lib/cidr';

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

// The parsers as they were written first (split + regex), kept as the reference the
// character-scanning ones must agree with on every input.
function referenceIpv4(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n >>> 0;
}
function referenceIpv6(ip: string): number[] | null {
  if (ip.length < 2 || ip.length > 45) return null;
  let text = ip;
  const lastColon = ip.lastIndexOf(':');
  if (ip.indexOf('.', lastColon) >= 0) {
    const tail = referenceIpv4(ip.slice(lastColon + 1));
    if (tail === null) return null;
    text = `${ip.slice(0, lastColon + 1)}${(tail >>> 16).toString(16)}:${(tail & 0xffff).toString(16)}`;
  }
  const dbl = text.indexOf('::');
  if (dbl !== text.lastIndexOf('::')) return null;
  let groups: string[];
  if (dbl >= 0) {
    const left = text.slice(0, dbl) === '' ? [] : text.slice(0, dbl).split(':');
    const right = text.slice(dbl + 2) === '' ? [] : text.slice(dbl + 2).split(':');
    const missing = 8 - left.length - right.length;
    if (missing < 1) return null;
    groups = [...left, ...new Array<string>(missing).fill('0'), ...right];
  } else {
    groups = text.split(':');
  }
  if (groups.length !== 8) return null;
  const out = [0, 0, 0, 0];
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return null;
    const g = parseInt(groups[i], 16);
    out[i >> 1] = i & 1 ? (out[i >> 1] | g) >>> 0 : (g << 16) >>> 0;
  }
  return out;
}

test('the scanning parsers agree with split + regex on listed and generated inputs', () => {
  const listed = [
    '', '.', '1.2.3.4', '01.2.3.4', '1.2.3.04', '001.002.003.004', '0001.2.3.4', '1.2.3.256', '255.255.255.255', '1.2.3', '1.2.3.4.',
    '.1.2.3.4', '1..2.3', '1.2.3.4.5', '+1.2.3.4', ' 1.2.3.4', '1.2.3.4 ', '1e1.2.3.4', '١.2.3.4',
    '::', ':::', '::1', '1::', ':1::', '1::2:', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8::', '1::2::3', '1:::2',
    '::ffff:1.2.3.4', '::1.2.3.4', '1.2.3.4::', '::ffff:01234.1.1.1', '::ffff:1.2.3', '::ffff:1.2.3.4.5', '1:2:3:4:5:6:1.2.3.4',
    '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5::1.2.3.4', 'ffff::1.2.3.4:1', 'fe80::1%eth0', '[::1]', 'FFFF::abcd', '12345::', 'g::',
    '0000:0000:0000:0000:0000:ffff:7f00:0001', '0000:0000:0000:0000:0000:0000:0000:0001', '1:2:3:4:5:6:7:8:9', '::00000',
  ];
  const atoms = ['0', '1', '9', 'a', 'F', 'g', ':', '::', '.', '255', '256', '0000', 'ffff', '12345', '1.2.3.4', ' '];
  let seed = 21;
  const random = (k: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % k;
  };
  const generated: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    let s = '';
    const parts = 1 + random(12);
    for (let p = 0; p < parts; p++) s += atoms[random(atoms.length)];
    generated.push(s);
    // Address-shaped: 1–9 groups of 0–5 hex digits, maybe one `::`, maybe a dotted tail.
    const groups: string[] = [];
    const count = 1 + random(9);
    for (let g = 0; g < count; g++) groups.push('0123456789abcdefABCDEF'.slice(random(20)).slice(0, random(6)));
    if (random(2) === 0) groups.splice(random(groups.length + 1), 0, '');
    let v6 = groups.join(':');
    if (random(4) === 0) v6 += `:${random(300)}.${random(300)}.${random(3)}.${random(256)}`;
    generated.push(v6);
  }
  let valid6 = 0;
  for (const ip of [...listed, ...generated]) {
    assert.equal(parseIpv4(ip), referenceIpv4(ip), `IPv4 ${JSON.stringify(ip)}`);
    const got = parseIpv6(ip);
    assert.deepEqual(got === null ? null : [...got], referenceIpv6(ip), `IPv6 ${JSON.stringify(ip)}`);
    if (got !== null) valid6++;
  }
  // The generator reaches valid addresses too, not only garbage.
  assert.ok(valid6 > 100, `${valid6} valid IPv6 inputs`);
});

test('a matcher gives the same verdicts when asked about the same or alternating addresses (its one-entry memory)', () => {
  const m = compileIpMatcher(['10.0.0.0/8', '2001:db8::/32']);
  for (let i = 0; i < 3; i++) {
    assert.equal(m('10.1.2.3'), true);
    assert.equal(m('10.1.2.3'), true);
    assert.equal(m('11.1.2.3'), false);
    assert.equal(m('2001:db8::1'), true);
    assert.equal(m('2001:db9::1'), false);
    assert.equal(m('2001:db9::1'), false);
    assert.equal(m('not an address'), false);
    assert.equal(m('0000:0000:0000:0000:0000:ffff:0a00:0001'), true);
  }
});
