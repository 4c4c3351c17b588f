import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { CertDir } from '../../helpers/certs';
import { load, problems, lines } from './helpers';

const certs = new CertDir();
after(() => certs.remove());
const a = certs.leaf('a', ['a.test']);
const b = certs.leaf('b', ['b.test']);
const ca = certs.ca('unit-ca');

const yml = (o: object): string => stringify({ _format_version: '3.0', ...o });

test('certificates with inline and top-level snis compile into the snapshot', () => {
  const s = load(yml({
    certificates: [{ id: '11111111-1111-4111-8111-111111111111', cert: a.cert, key: a.key, snis: ['A.test', { name: '*.w.test' }] }, { cert: b.cert, key: b.key }],
    snis: [{ name: 'b.test', certificate: '11111111-1111-4111-8111-111111111111' }],
    ca_certificates: [{ id: '22222222-2222-4222-8222-222222222222', cert: ca.cert }],
    services: [{ name: 's', url: 'https://up.test', tls_verify: true, ca_certificates: ['22222222-2222-4222-8222-222222222222'], client_certificate: { id: '11111111-1111-4111-8111-111111111111' } }],
  })).snapshot;
  assert.equal(s.certificates?.length, 2);
  assert.deepEqual(s.snis, [{ name: 'a.test', certificate: 0 }, { name: '*.w.test', certificate: 0 }, { name: 'b.test', certificate: 0 }]);
  assert.deepEqual(s.services[0].tls, { verify: true, verifyDepth: null, ca: [ca.cert], clientCertificate: 0 });
});

test('bad PEM, a key of another certificate, a missing certificate: each named with its path', () => {
  const ps = lines(problems(yml({
    certificates: [
      { cert: 'not a pem', key: a.key },
      { cert: a.cert, key: b.key },
    ],
    snis: [{ name: 'x.test', certificate: '33333333-3333-4333-8333-333333333333' }, { name: 'a.*.test', certificate: '33333333-3333-4333-8333-333333333333' }],
    services: [{ name: 's', url: 'https://up.test', client_certificate: '44444444-4444-4444-8444-444444444444', ca_certificates: ['55555555-5555-4555-8555-555555555555'] }],
  })));
  assert.ok(ps.some((l) => l.startsWith('certificates[0].cert: invalid certificate: no PEM')), ps.join('\n'));
  assert.ok(ps.includes("certificates[1].key: 'key' is not the private key of 'cert' (their public keys differ)"), ps.join('\n'));
  assert.ok(ps.some((l) => l.startsWith("snis[0].certificate: invalid reference 'certificate: 33333333")), ps.join('\n'));
  assert.ok(ps.includes('snis[1].name: wildcard must be leftmost or rightmost character'), ps.join('\n'));
  assert.ok(ps.some((l) => l.startsWith("services[0].client_certificate: invalid reference 'client_certificate: 44444444")), ps.join('\n'));
  assert.ok(ps.some((l) => l.startsWith("services[0].ca_certificates[0]: invalid reference '55555555")), ps.join('\n'));
});

test('proxy_listen ssl entries and ssl_* settings', () => {
  const s = load(yml({ hyperway: { proxy_listen: '0.0.0.0:8000, 0.0.0.0:8443 http2 ssl', ssl_cipher_suite: 'modern' } })).snapshot.settings;
  assert.deepEqual(s.proxyListens, [{ host: '0.0.0.0', port: 8000 }]);
  assert.deepEqual(s.proxySslListens, [{ host: '0.0.0.0', port: 8443 }]);
  assert.equal(s.sslCipherSuite, 'modern');
  assert.deepEqual(s.sslProtocols, ['TLSv1.2', 'TLSv1.3']);
  assert.deepEqual(lines(problems(yml({ hyperway: { ssl_protocols: 'TLSv1.1', ssl_cipher_suite: 'custom' } }))), [
    'hyperway.ssl_protocols: uWebSockets.js serves only TLSv1.2 and TLSv1.3: name at least one of them',
    'hyperway.ssl_cipher_suite: ssl_cipher_suite custom needs ssl_ciphers (an OpenSSL cipher list)',
  ]);
});

test('ssl_cert / ssl_cert_key are checked before workers see them; without them a default is generated once', async () => {
  const { prepareTls } = await import('../../../src/primary/tls/files');
  const base = load(yml({ hyperway: { proxy_listen: '127.0.0.1:1, 127.0.0.1:2 ssl' } })).snapshot;
  const mismatched = { ...base, settings: { ...base.settings, sslCert: [a.certFile], sslCertKey: [b.keyFile] } };
  assert.throws(() => prepareTls(mismatched), (e: Error) => e.message === `ssl_cert_key ${b.keyFile} is not the private key of ssl_cert ${a.certFile}`);
  const missing = { ...base, settings: { ...base.settings, sslCert: [`${a.certFile}.gone`], sslCertKey: [a.keyFile] } };
  assert.throws(() => prepareTls(missing), /ENOENT/);
  const first = prepareTls(base).settings;
  const second = prepareTls(base).settings;
  assert.equal(first.sslCert.length, 1);
  assert.deepEqual(second.sslCert, first.sslCert, 'generated once per start');
  const { X509Certificate } = await import('node:crypto');
  const { readFileSync, statSync } = await import('node:fs');
  assert.match(new X509Certificate(readFileSync(first.sslCert[0])).subject, /CN=localhost/);
  assert.equal(statSync(first.sslCertKey[0]).mode & 0o077, 0, 'the generated key is private');
});

test('PEMs seen before (parsed once and remembered) still pair only with their own: a mismatch among repeats is reported', () => {
  const certificates = [];
  for (let i = 0; i < 80; i++) certificates.push(i === 41 ? { cert: a.cert, key: b.key } : i % 2 === 0 ? { cert: a.cert, key: a.key } : { cert: b.cert, key: b.key });
  const ps = lines(problems(yml({ certificates })));
  assert.deepEqual(ps.filter((l) => l.includes('is not the private key')), ["certificates[41].key: 'key' is not the private key of 'cert' (their public keys differ)"]);
});

test('one combined PEM (certificate and key in one text) serves as both cert and key', () => {
  const combined = `${a.cert}\n${a.key}`;
  const s = load(yml({ certificates: [{ cert: combined, key: combined, snis: ['a.test'] }, { cert: a.cert, key: combined }] })).snapshot;
  assert.equal(s.certificates?.length, 2);
});
