/**
 * jwt through the real gateway (2 workers) to a real upstream, with HS256 and RS256 tokens signed
 * here (the RSA key pair is generated at test time). Kong's messages from
 * spec/03-plugins/16-jwt/03-access_spec.lua.
 */
import assert from 'node:assert/strict';
import { createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request, type HttpResult } from '../../helpers/http-client';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startEchoServer, type EchoRecord, type EchoServer } from '../../helpers/upstream';
import { waitFor } from '../../helpers/wait';

const CAROL_ID = '9e1f3b22-6c7d-4e81-8b92-000000000001';
const HS_SECRET = 'a-secret-only-the-test-knows';

const b64url = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');

function signHS256(claims: object, secret = HS_SECRET): string {
  const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function signRS256(claims: object, key: KeyObject): string {
  const input = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

const now = (): number => Math.floor(Date.now() / 1000);

function config(upPort: number, rsaPublicPem: string): object {
  const route = (name: string, plugins: object[]): object => ({ name, paths: [`/${name}`], plugins });
  return {
    _format_version: '3.0',
    consumers: [
      {
        id: CAROL_ID,
        username: 'carol',
        jwt_secrets: [
          { key: 'hs-issuer', secret: HS_SECRET, algorithm: 'HS256' },
          { key: 'rs-issuer', algorithm: 'RS256', rsa_public_key: rsaPublicPem },
        ],
      },
    ],
    services: [
      {
        name: 'up',
        url: `http://127.0.0.1:${upPort}`,
        routes: [
          route('jwt', [{ name: 'jwt' }]),
          route('exp', [{ name: 'jwt', config: { claims_to_verify: ['exp'] } }]),
          route('realm', [{ name: 'jwt', config: { realm: 'hyper' } }]),
        ],
      },
    ],
  };
}

describe('jwt through the gateway', () => {
  let up: EchoServer;
  let gw: Gateway;
  let rsaPrivate: KeyObject;
  let otherPrivate: KeyObject;

  before(async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    rsaPrivate = pair.privateKey;
    otherPrivate = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    up = await startEchoServer('echo-up');
    gw = await startGateway({ config: config(up.port, pair.publicKey.export({ type: 'spki', format: 'pem' }) as string) });
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  const send = (path: string, headers: Record<string, string> = {}): Promise<HttpResult> => request(gw.proxyUrl + path, { headers });
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  function assertRejected(res: HttpResult, body: object, challenge = 'Bearer error="invalid_token"'): void {
    assert.equal(res.status, 401, res.text);
    assert.deepEqual(res.json(), body);
    assert.equal(res.headers['www-authenticate'], challenge);
  }

  it('no token: 401 {"message":"Unauthorized"} with WWW-Authenticate: Bearer', async () => {
    assertRejected(await send('/jwt/x'), { message: 'Unauthorized' }, 'Bearer');
    assertRejected(await send('/realm/x'), { message: 'Unauthorized' }, 'Bearer realm="hyper"');
  });

  it('an HS256 token in the Authorization header: 200, the consumer and credential key upstream', async () => {
    const token = signHS256({ iss: 'hs-issuer', sub: 'x' });
    const res = await send('/jwt/x', bearer(token));
    assert.equal(res.status, 200, res.text);
    const seen = res.json<EchoRecord>();
    assert.equal(seen.headers['x-consumer-id'], CAROL_ID);
    assert.equal(seen.headers['x-consumer-username'], 'carol');
    assert.equal(seen.headers['x-credential-identifier'], 'hs-issuer');
    assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    assert.equal(seen.headers.authorization, `Bearer ${token}`, 'the token is forwarded');
  });

  it('an HS256 token in the ?jwt= query argument: 200', async () => {
    const res = await send(`/jwt/x?jwt=${signHS256({ iss: 'hs-issuer', n: 1 })}&a=1`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json<EchoRecord>().headers['x-consumer-username'], 'carol');
  });

  it('an RS256 token signed with the credential key pair: 200', async () => {
    const res = await send('/jwt/x', bearer(signRS256({ iss: 'rs-issuer' }, rsaPrivate)));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json<EchoRecord>().headers['x-credential-identifier'], 'rs-issuer');
  });

  it('a bad signature: 401 "Invalid signature" (HS256 with another secret, RS256 with another key)', async () => {
    assertRejected(await send('/jwt/x', bearer(signHS256({ iss: 'hs-issuer' }, 'not-the-secret'))), { message: 'Invalid signature' });
    assertRejected(await send('/jwt/x', bearer(signRS256({ iss: 'rs-issuer' }, otherPrivate))), { message: 'Invalid signature' });
  });

  it("Kong's other messages: no iss, unknown iss, wrong algorithm, bad token, two tokens", async () => {
    assertRejected(await send('/jwt/x', bearer(signHS256({ sub: 'x' }))), { message: "No mandatory 'iss' in claims" });
    assertRejected(await send('/jwt/x', bearer(signHS256({ iss: 'nobody' }))), { message: "No credentials found for given 'iss'" });
    assertRejected(await send('/jwt/x', bearer(signHS256({ iss: 'rs-issuer' }))), { message: 'Invalid algorithm' });
    assertRejected(await send('/jwt/x', bearer('not-a-token')), { message: 'Bad token; invalid JSON' });
    const a = signHS256({ iss: 'hs-issuer', n: 1 });
    const b = signHS256({ iss: 'hs-issuer', n: 2 });
    assertRejected(await send(`/jwt/x?jwt=${a}`, bearer(b)), { message: 'Multiple tokens provided' });
    assert.equal((await send(`/jwt/x?jwt=${a}`, bearer(a))).status, 200, 'the same token twice is one token');
  });

  it('claims_to_verify exp: expired → {"exp":"token expired"}, missing → "must be a number", future → 200', async () => {
    assertRejected(await send('/exp/x', bearer(signHS256({ iss: 'hs-issuer', exp: now() - 10 }))), { exp: 'token expired' });
    assertRejected(await send('/exp/x', bearer(signHS256({ iss: 'hs-issuer' }))), { exp: 'must be a number' });
    assert.equal((await send('/exp/x', bearer(signHS256({ iss: 'hs-issuer', exp: now() + 600 })))).status, 200);
    // Without claims_to_verify an expired token is accepted, as in Kong.
    assert.equal((await send('/jwt/x', bearer(signHS256({ iss: 'hs-issuer', exp: now() - 10 })))).status, 200);
  });

  describe('the same token again on one connection (the verified-token cache of that worker)', () => {
    let agent: Agent;
    before(() => {
      agent = new Agent({ keepAlive: true, maxSockets: 1 });
    });
    after(() => agent.destroy());

    function get(path: string, headers: Record<string, string>): Promise<{ status: number; body: string; reused: boolean }> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(`${gw.proxyUrl}${path}`, { agent, headers }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end();
      });
    }

    it('both answer 200 with the same consumer, and an RS256 token too', async () => {
      for (const token of [signHS256({ iss: 'hs-issuer', exp: now() + 600 }), signRS256({ iss: 'rs-issuer', exp: now() + 600 }, rsaPrivate)]) {
        const first = await get('/exp/x', bearer(token));
        const second = await get('/exp/x', bearer(token));
        assert.equal(first.status, 200, first.body);
        assert.equal(second.status, 200, second.body);
        assert.equal(second.reused, true, 'same connection, so the same worker');
        assert.equal((JSON.parse(second.body) as EchoRecord).headers['x-consumer-username'], 'carol');
      }
    });

    it('a remembered token is still checked against the clock: 401 once its exp has passed', async () => {
      const token = signHS256({ iss: 'hs-issuer', exp: now() + 2 });
      assert.equal((await get('/exp/x', bearer(token))).status, 200);
      const expired = await waitFor('the cached token to expire', async () => {
        const r = await get('/exp/x', bearer(token));
        return r.status === 401 ? r : undefined;
      }, { timeoutMs: 5000, intervalMs: 250 });
      assert.deepEqual(JSON.parse(expired.body), { exp: 'token expired' });
      assert.equal(expired.reused, true);
    });
  });
});
