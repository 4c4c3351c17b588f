// The Admin API over TLS: `admin_listen … ssl` entries (Kong's default has `127.0.0.1:8444 http2
// ssl`) with admin_ssl_cert / admin_ssl_cert_key, or a self-signed certificate without them; the
// token rule is the same as on plain listeners. A real TLS client (node's https) verifies the
// certificate against a CA made for the test.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import type tls from 'node:tls';
import { request } from '../helpers/http-client';
import { runCli } from '../helpers/start-gateway';
import { listeningPorts, startWithEnv, type EnvGateway } from '../helpers/start-with-env';
import { freePorts } from '../helpers/ports';
import { CertDir, type Pem } from '../helpers/certs';

const TOKEN = 'admin-tls-token-0123456789';

interface TlsAnswer {
  status: number;
  body: string;
  cn: string;
  protocol: string | null;
  authorized: boolean;
}

function adminTls(port: number, pathname: string, opts: { ca?: string; token?: string; method?: string; body?: string } = {}): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.token !== undefined) headers['kong-admin-token'] = opts.token;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const req = https.request({
      host: '127.0.0.1', port, path: pathname, method: opts.method ?? 'GET', agent: false, headers, servername: 'localhost',
      ...(opts.ca === undefined ? { rejectUnauthorized: false } : { ca: opts.ca, rejectUnauthorized: true }),
    }, (res) => {
      const sock = res.socket as tls.TLSSocket;
      const cn = String(sock.getPeerCertificate().subject?.CN ?? '');
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn, protocol: sock.getProtocol(), authorized: sock.authorized }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end(opts.body);
  });
}

describe('Admin API over TLS (admin_listen ssl entries)', () => {
  let certs: CertDir;
  let ca: Pem;
  let leaf: Pem;
  let other: Pem;
  let config: string;
  const running: EnvGateway[] = [];

  before(() => {
    certs = new CertDir();
    ca = certs.ca('admin-test-ca');
    leaf = certs.leaf('admin', ['localhost', '127.0.0.1'], ca);
    other = certs.leaf('other', ['other.test'], ca);
    config = path.join(certs.dir, 'kong.yml');
    fs.writeFileSync(config, '_format_version: "3.0"\n');
  });
  after(async () => {
    await Promise.all(running.map((g) => g.stop()));
    certs.remove();
  });

  function start(env: NodeJS.ProcessEnv): EnvGateway {
    const gw = startWithEnv(['start', '--config', config], { HYPERWAY_WORKERS: '2', HYPERWAY_LOG_LEVEL: 'notice', ...env });
    running.push(gw);
    return gw;
  }

  it('serves the Admin API with admin_ssl_cert beside the plain listener, verified by a client that trusts the CA; the token rule holds on both', async () => {
    const [proxyPort, plainPort, tlsPort] = await freePorts(3);
    const gw = start({
      HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`,
      // Kong's default form; the TLS entry beyond loopback needs the token, as a plain one would.
      KONG_ADMIN_LISTEN: `127.0.0.1:${plainPort} reuseport backlog=16384, 0.0.0.0:${tlsPort} http2 ssl reuseport backlog=16384`,
      KONG_ADMIN_SSL_CERT: leaf.certFile, KONG_ADMIN_SSL_CERT_KEY: leaf.keyFile, HYPERWAY_ADMIN_TOKEN: TOKEN,
    });
    const status = await gw.until('GET /status over TLS to answer 200', async () => {
      const r = await adminTls(tlsPort, '/status', { ca: ca.cert }).catch(() => null);
      return r?.status === 200 ? r : null;
    });
    assert.equal(status.authorized, true, 'the certificate chains to the test CA and names localhost');
    assert.equal(status.cn, 'localhost');
    assert.match(String(status.protocol), /^TLSv1\.[23]$/);
    const none = await adminTls(tlsPort, '/services', { ca: ca.cert });
    assert.equal(none.status, 401, 'no token over TLS: refused');
    assert.deepEqual(JSON.parse(none.body), { message: 'Invalid credentials. Token or User credentials required' });
    assert.equal((await adminTls(tlsPort, '/services', { ca: ca.cert, token: TOKEN + 'x' })).status, 401);
    const created = await adminTls(tlsPort, '/services', { ca: ca.cert, token: TOKEN, method: 'POST', body: JSON.stringify({ name: 'over-tls', url: 'http://127.0.0.1:9' }) });
    assert.equal(created.status, 201, created.body);
    // One store behind both listeners: the plain one sees what TLS created (and wants the token too).
    assert.equal((await request(`http://127.0.0.1:${plainPort}/services`)).status, 401);
    const plain = await request(`http://127.0.0.1:${plainPort}/services`, { headers: { 'kong-admin-token': TOKEN } });
    assert.deepEqual(plain.json<{ data: Array<{ name: string }> }>().data.map((s) => s.name), ['over-tls']);
    const root = JSON.parse((await adminTls(tlsPort, '/', { ca: ca.cert, token: TOKEN })).body) as { configuration: { admin_listen: string[] } };
    assert.deepEqual(root.configuration.admin_listen, [`127.0.0.1:${plainPort}`, `0.0.0.0:${tlsPort} ssl`]);
    // Plain HTTP on the TLS port gets no Admin API answer.
    const cleartext = await request(`http://127.0.0.1:${tlsPort}/services`, { headers: { 'kong-admin-token': TOKEN }, timeoutMs: 3000 }).catch(() => null);
    assert.ok(cleartext === null || cleartext.status === 400, `cleartext on the TLS port: ${cleartext?.status}`);
  });

  it('without admin_ssl_cert serves a self-signed certificate (CN=localhost) that a verifying client refuses; an ssl entry alone is an Admin API', async () => {
    const [proxyPort, tlsPort] = await freePorts(2);
    const gw = start({ HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, KONG_ADMIN_LISTEN: `127.0.0.1:${tlsPort} ssl` });
    const r = await gw.until('GET /services over TLS to answer 200', async () => {
      const a = await adminTls(tlsPort, '/services').catch(() => null);
      return a?.status === 200 ? a : null;
    });
    assert.equal(r.cn, 'localhost');
    await assert.rejects(adminTls(tlsPort, '/status', { ca: ca.cert }), /self[- ]signed|unable to verify|certificate/i, 'not signed by any CA the client trusts');
    assert.match(gw.output(), /no admin_ssl_cert: the Admin API serves a self-signed certificate/);
    assert.deepEqual(listeningPorts(gw.pid).sort(), [tlsPort], 'the primary listens on the TLS entry only');
  });

  it('refuses to start when admin_ssl_cert_key is not the key of admin_ssl_cert, naming both files', async () => {
    const [proxyPort, tlsPort] = await freePorts(2);
    const r = await runCli(['start', '--config', config], 20000, {
      HYPERWAY_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, HYPERWAY_ADMIN_LISTEN: `127.0.0.1:${tlsPort} ssl`, HYPERWAY_WORKERS: '2',
      HYPERWAY_ADMIN_SSL_CERT: leaf.certFile, HYPERWAY_ADMIN_SSL_CERT_KEY: other.keyFile,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`admin_ssl_cert_key ${other.keyFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not the private key of admin_ssl_cert`));
  });
});
