/**
 * TLS through the 2-worker gateway: SNI certificates (exact, wildcard, default), protocol versions,
 * https-only routes and the redirect, X-Forwarded-Proto, a certificate added by reload while an
 * older connection keeps working, and HTTPS upstreams with and without verification.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer, type EchoRecord } from '../helpers/upstream';
import { freePorts } from '../helpers/ports';
import { request } from '../helpers/http-client';
import { waitFor } from '../helpers/wait';
import { CertDir, type Pem } from '../helpers/certs';

interface TlsResult {
  status: number;
  body: string;
  cn: string;
  fingerprint: string;
  protocol: string | null;
  reused: boolean;
  headers: Record<string, unknown>;
}

function tlsGet(port: number, path: string, opts: { servername?: string; agent?: https.Agent; host?: string } = {}): Promise<TlsResult> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: opts.agent ?? false,
      servername: opts.servername, headers: { host: opts.host ?? opts.servername ?? 'localhost' },
    }, (res) => {
      const sock = res.socket as tls.TLSSocket;
      const peer = sock.getPeerCertificate();
      const cn = String(peer.subject?.CN ?? '');
      const fingerprint = peer.fingerprint256;
      const protocol = sock.getProtocol();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn, fingerprint, protocol, reused: req.reusedSocket, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A handshake only: the protocol agreed, or the error. */
function handshake(port: number, opts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      resolve(String(s.getProtocol()));
      s.end();
    });
    s.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

function httpsUpstream(pem: Pem, clientCa?: Pem): Promise<https.Server> {
  const server = https.createServer({ cert: pem.cert, key: pem.key, ...(clientCa ? { ca: clientCa.cert, requestCert: true, rejectUnauthorized: true } : {}) }, (req, res) => {
    const peer = (req.socket as tls.TLSSocket).getPeerCertificate();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ client: peer?.subject?.CN ?? null, sni: (req.socket as tls.TLSSocket & { servername?: string }).servername ?? null }));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

describe('TLS termination and HTTPS upstreams', { timeout: 60000 }, () => {
  const certs = new CertDir();
  let gw: Gateway;
  let echo: EchoServer;
  let up: https.Server;
  let mtls: https.Server;
  let plainPort: number;
  let tlsPort: number;
  let config: Record<string, unknown>;
  let b: Pem;
  let a2: Pem;

  before(async () => {
    const a = certs.leaf('a', ['a.test']);
    const wild = certs.leaf('wild', ['*.w.test']);
    b = certs.leaf('b', ['b.test']);
    a2 = certs.leaf('a2', ['a.test']);
    const upCa = certs.ca('upstream-ca');
    const otherCa = certs.ca('other-ca');
    const upCert = certs.leaf('up', ['localhost'], upCa);
    const clientCa = certs.ca('client-ca');
    const client = certs.leaf('client', ['gateway-client'], clientCa);
    echo = await startEchoServer('echo');
    up = await httpsUpstream(upCert);
    mtls = await httpsUpstream(upCert, clientCa);
    const upPort = (up.address() as AddressInfo).port;
    const mtlsPort = (mtls.address() as AddressInfo).port;
    [plainPort, tlsPort] = (await freePorts(2)) as [number, number];
    const CA_UP = '0b0b0b0b-0000-4000-8000-000000000001';
    const CA_OTHER = '0b0b0b0b-0000-4000-8000-000000000002';
    const CLIENT = '0c0c0c0c-0000-4000-8000-000000000001';
    config = {
      _format_version: '3.0',
      certificates: [
        { cert: a.cert, key: a.key, snis: ['a.test'] },
        { cert: wild.cert, key: wild.key, snis: [{ name: '*.w.test' }] },
        { id: CLIENT, cert: client.cert, key: client.key },
      ],
      ca_certificates: [{ id: CA_UP, cert: upCa.cert }, { id: CA_OTHER, cert: otherCa.cert }],
      services: [
        { name: 'echo', url: `http://127.0.0.1:${echo.port}`, routes: [
          { name: 'both', paths: ['/both'] },
          { name: 'secure', paths: ['/secure'], protocols: ['https'], https_redirect_status_code: 301 },
          { name: 'sni-only', paths: ['/sni'], protocols: ['https'], snis: ['only.test'] },
          { name: 'sni-a', paths: ['/sni'], protocols: ['https'], snis: ['a.test'], strip_path: false },
          { name: 'term', paths: ['/term'], plugins: [{ name: 'request-termination', config: { status_code: 200, echo: true } }] },
        ] },
        { name: 'v-ok', url: `https://localhost:${upPort}`, tls_verify: true, ca_certificates: [CA_UP], routes: [{ paths: ['/v-ok'] }] },
        { name: 'v-bad', url: `https://localhost:${upPort}`, tls_verify: true, ca_certificates: [CA_OTHER], retries: 0, routes: [{ paths: ['/v-bad'] }] },
        { name: 'v-off', url: `https://localhost:${upPort}`, routes: [{ paths: ['/v-off'] }] },
        { name: 'mtls', url: `https://localhost:${mtlsPort}`, client_certificate: { id: CLIENT }, routes: [{ paths: ['/mtls'] }] },
        { name: 'mtls-none', url: `https://localhost:${mtlsPort}`, retries: 0, routes: [{ paths: ['/mtls-none'] }] },
      ],
    };
    gw = await startGateway({ config, env: { HYPERWAY_PROXY_LISTEN: `127.0.0.1:${plainPort}, 127.0.0.1:${tlsPort} http2 ssl` } });
  });

  after(async () => {
    await gw?.stop();
    await echo?.close();
    up?.close();
    mtls?.close();
    certs.remove();
  });

  it('picks the certificate by SNI: exact, wildcard one label deep, the default for other names and without SNI', async () => {
    const cases: [string | undefined, string][] = [['a.test', 'a.test'], ['x.w.test', '*.w.test'], ['x.y.w.test', 'localhost'], ['nope.test', 'localhost'], [undefined, 'localhost']];
    for (const [servername, cn] of cases) {
      const r = await tlsGet(tlsPort, '/both/x', { servername });
      assert.equal(r.cn, cn, `SNI ${servername}`);
      assert.equal(r.status, 200, `SNI ${servername}: ${r.body}`);
    }
  });

  it("routes with snis match the connection's server name only", async () => {
    const only = await tlsGet(tlsPort, '/sni/x', { servername: 'only.test' });
    assert.equal(only.status, 200, only.body);
    assert.equal(only.cn, 'localhost', 'a route sni without a certificate gets the default one');
    assert.equal((JSON.parse(only.body) as EchoRecord).url, '/x');
    const a = await tlsGet(tlsPort, '/sni/x', { servername: 'a.test' });
    assert.equal(a.status, 200, a.body);
    assert.equal((JSON.parse(a.body) as EchoRecord).url, '/sni/x', 'the a.test route (strip_path off) took it');
    assert.equal((await tlsGet(tlsPort, '/sni/x', { servername: 'other.w.test' })).status, 404);
    assert.equal((await tlsGet(tlsPort, '/sni/x')).status, 404, 'no SNI: no route with snis');
  });

  it('serves TLS 1.2 and 1.3 and refuses TLS 1.1; ssl_cipher_suite intermediate refuses CBC suites on TLS 1.2', async () => {
    assert.equal(await handshake(tlsPort, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), 'TLSv1.2');
    assert.match(await handshake(tlsPort, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }), /^error: .*handshake failure/i);
    assert.equal(await handshake(tlsPort, { maxVersion: 'TLSv1.2' }), 'TLSv1.2');
    assert.equal(await handshake(tlsPort, { minVersion: 'TLSv1.3' }), 'TLSv1.3');
    assert.match(await handshake(tlsPort, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), /^error: .*(protocol version|unsupported protocol)/i);
  });

  it('an https-only route: 200 over TLS with X-Forwarded-Proto https, a redirect to the TLS port over plain http', async () => {
    const r = await tlsGet(tlsPort, '/secure/x?q=1', { servername: 'a.test', host: 'a.test' });
    assert.equal(r.status, 200, r.body);
    const seen = JSON.parse(r.body) as EchoRecord;
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-port'], String(tlsPort));
    const plain = await request(`http://127.0.0.1:${plainPort}/secure/x?q=1`, { headers: { host: 'api.test' } });
    assert.equal(plain.status, 301);
    assert.equal(plain.headers.location, `https://api.test:${tlsPort}/secure/x?q=1`);
    const both = await request(`http://127.0.0.1:${plainPort}/both/y`);
    assert.equal(both.json<EchoRecord>().headers['x-forwarded-proto'], 'http');
    // Plugins see the scheme too (kong.request.get_scheme).
    const term = await tlsGet(tlsPort, '/term', { servername: 'a.test', host: 'a.test' });
    assert.equal((JSON.parse(term.body) as { request: { scheme: string } }).request.scheme, 'https');
    assert.equal((await request(`http://127.0.0.1:${plainPort}/term`)).json<{ request: { scheme: string } }>().request.scheme, 'http');
  });

  it('HTTPS upstreams: verified with the right CA, 502 with a wrong one, unverified by default, client certificate presented', async () => {
    const ok = await request(`http://127.0.0.1:${plainPort}/v-ok`);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json<{ sni: string }>().sni, 'localhost');
    assert.equal((await request(`http://127.0.0.1:${plainPort}/v-bad`)).status, 502);
    assert.equal((await request(`http://127.0.0.1:${plainPort}/v-off`)).status, 200);
    const m = await request(`http://127.0.0.1:${plainPort}/mtls`);
    assert.equal(m.status, 200, m.text);
    assert.equal(m.json<{ client: string }>().client, 'gateway-client');
    assert.equal((await request(`http://127.0.0.1:${plainPort}/mtls-none`)).status, 502);
  });

  it('a reload adds, replaces and removes SNI certificates without restarting workers; connections opened before on those names still work', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const wildAgent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const before = await tlsGet(tlsPort, '/both/1', { servername: 'a.test', agent });
    assert.equal(before.status, 200);
    assert.equal((await tlsGet(tlsPort, '/both/w1', { servername: 'x.w.test', agent: wildAgent })).cn, '*.w.test');
    assert.equal((await tlsGet(tlsPort, '/both/2', { servername: 'b.test' })).cn, 'localhost');
    const pids = (await gw.status()).workers.map((w) => w.pid).sort();
    const next = structuredClone(config);
    (next.certificates as object[]).push({ cert: b.cert, key: b.key, snis: ['b.test'] });
    // a.test's certificate replaced: uWS 20.30 would crash on the open connection if the name were removed in place.
    (next.certificates as Record<string, unknown>[])[0] = { cert: a2.cert, key: a2.key, snis: ['a.test'] };
    // *.w.test removed: a request on a connection whose name uWS 20.30 removed in place crashes the worker.
    delete (next.certificates as Record<string, unknown>[])[1].snis;
    writeFileSync(gw.configPath, stringify(next));
    gw.child.kill('SIGHUP');
    await waitFor('both workers on config 2', async () => (await gw.status()).workers.every((w) => w.config_version >= 2), { timeoutMs: 10000 });
    const after = await tlsGet(tlsPort, '/both/3', { servername: 'b.test' });
    assert.equal(after.cn, 'b.test');
    assert.equal(after.status, 200, after.body);
    const again = await tlsGet(tlsPort, '/both/4', { servername: 'a.test', agent });
    assert.equal(again.reused, true, 'the request went over the connection opened before the reload');
    assert.equal(again.status, 200);
    assert.equal(again.fingerprint, before.fingerprint, 'the old connection keeps the certificate it was opened with');
    const fresh = await tlsGet(tlsPort, '/both/5', { servername: 'a.test' });
    assert.notEqual(fresh.fingerprint, before.fingerprint, 'a new connection gets the replacing certificate');
    assert.equal(fresh.status, 200);
    for (let i = 0; i < 20; i++) assert.equal((await tlsGet(tlsPort, `/both/r${i}`, { servername: 'a.test', agent })).status, 200);
    const oldWild = await tlsGet(tlsPort, '/both/w2', { servername: 'x.w.test', agent: wildAgent });
    assert.equal(oldWild.reused, true);
    assert.equal(oldWild.status, 200, 'a connection on a removed name is still served');
    assert.equal((await tlsGet(tlsPort, '/both/w3', { servername: 'x.w.test' })).cn, 'localhost', 'new connections on a removed name get the default');
    wildAgent.destroy();
    assert.deepEqual((await gw.status()).workers.map((w) => w.pid).sort(), pids);
    agent.destroy();
  });
});
