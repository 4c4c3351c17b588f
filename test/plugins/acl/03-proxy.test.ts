/**
 * acl through the real gateway (2 workers) behind key-auth: groups come from the consumers' acls
 * credentials. Kong's cases from spec/03-plugins/18-acl/02-access_spec.lua.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request, type HttpResult } from '../../helpers/http-client';
import { useEchoGateway } from '../../helpers/echo-gateway';
import type { EchoRecord } from '../../helpers/upstream';

function config(upPort: number): object {
  const route = (name: string, plugins: object[]): object => ({ name, paths: [`/${name}`], plugins });
  const withKey = (acl: object): object[] => [{ name: 'key-auth' }, { name: 'acl', config: acl }];
  return {
    _format_version: '3.0',
    consumers: [
      { username: 'alice', keyauth_credentials: [{ key: 'alice-key' }], acls: [{ group: 'admin' }, { group: 'dev' }] },
      { username: 'bob', keyauth_credentials: [{ key: 'bob-key' }], acls: [{ group: 'guest' }] },
      { username: 'carol', keyauth_credentials: [{ key: 'carol-key' }] },
    ],
    services: [
      {
        name: 'up',
        url: `http://127.0.0.1:${upPort}`,
        routes: [
          route('allow', withKey({ allow: ['admin'] })),
          route('deny', withKey({ deny: ['guest'] })),
          route('hidden', withKey({ allow: ['admin'], hide_groups_header: true })),
          route('noauth', [{ name: 'acl', config: { allow: ['admin'] } }]),
        ],
      },
    ],
  };
}

describe('acl through the gateway', () => {
  const env = useEchoGateway('echo-up', config);

  const send = (path: string, headers: Record<string, string> = {}): Promise<HttpResult> => request(env.gw.proxyUrl + path, { headers });

  function assertForbidden(res: HttpResult): void {
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json<{ message: string }>().message, 'You cannot consume this service');
  }

  it('allow: a consumer in an allowed group passes, X-Consumer-Groups lists all its groups', async () => {
    const res = await send('/allow/x', { apikey: 'alice-key' });
    assert.equal(res.status, 200, res.text);
    const seen = res.json<EchoRecord>();
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.headers['x-consumer-groups'], 'admin, dev');
  });

  it("allow: a consumer in no allowed group, or in none at all: 403 'You cannot consume this service'", async () => {
    const before = env.echo.requests.length;
    assertForbidden(await send('/allow/x', { apikey: 'bob-key' }));
    assertForbidden(await send('/allow/x', { apikey: 'carol-key' }));
    assert.equal(env.echo.requests.length, before, 'nothing went upstream');
  });

  it('deny: a consumer in a denied group gets 403, others pass', async () => {
    assertForbidden(await send('/deny/x', { apikey: 'bob-key' }));
    const alice = await send('/deny/x', { apikey: 'alice-key' });
    assert.equal(alice.status, 200, alice.text);
    assert.equal(alice.json<EchoRecord>().headers['x-consumer-groups'], 'admin, dev');
    const carol = await send('/deny/x', { apikey: 'carol-key' });
    assert.equal(carol.status, 200, carol.text);
    assert.equal(carol.json<EchoRecord>().headers['x-consumer-groups'], undefined, 'no groups: no header');
  });

  it('hide_groups_header: no X-Consumer-Groups upstream, not even one the client sent', async () => {
    const res = await send('/hidden/x', { apikey: 'alice-key', 'x-consumer-groups': 'root' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json<EchoRecord>().headers['x-consumer-groups'], undefined);
  });

  it('a client-sent X-Consumer-Groups is replaced by the real groups', async () => {
    const res = await send('/allow/x', { apikey: 'alice-key', 'x-consumer-groups': 'root' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json<EchoRecord>().headers['x-consumer-groups'], 'admin, dev');
  });

  it('no authenticated consumer: 401 Unauthorized', async () => {
    const res = await send('/noauth/x');
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json<{ message: string }>().message, 'Unauthorized');
  });

  it('the 401 of key-auth comes first when the key is missing', async () => {
    const res = await send('/allow/x');
    assert.equal(res.status, 401);
    assert.equal(res.json<{ message: string }>().message, 'No API key found in request');
  });
});
