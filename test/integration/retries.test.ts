/**
 * Retries as README "Retries" states them (nginx proxy_next_upstream error timeout, Kong
 * `retries`): a GET is retried on the next target after a reset or a read timeout; a POST whose
 * request reached an upstream is never retried; a connect failure is retried for any method,
 * with the request body replayed intact to the next target.
 *
 * Each upstream below has two targets. The balancer walks its two-slot round-robin wheel per
 * worker, so two requests in a row on one worker start on different targets: of three requests
 * over two workers, at least one always starts on the failing target.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http-client';
import { closedPort } from '../helpers/ports';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { okJson, patternBytes, sha256, startScriptedServer, type ScriptedServer } from '../helpers/scripted-upstream';

const ROUNDS = 6;
/** Each try on the hung target costs a read_timeout: the fewest rounds that still prove the retry. */
const TIMEOUT_ROUNDS = 3;

describe('retries', () => {
  let good: ScriptedServer; // answers 200 naming itself, with what it received
  let reset: ScriptedServer; // resets once a whole request arrived
  let reset2: ScriptedServer;
  let hang: ScriptedServer; // never answers
  let refusedPort: number;
  let gw: Gateway;

  before(async () => {
    good = await startScriptedServer((req, sock) => okJson(sock, { server: 'good', length: req.body.length, sha: sha256(req.body) }));
    const resetOnRequest = (): Promise<ScriptedServer> => startScriptedServer((_req, sock) => sock.resetAndDestroy());
    [reset, reset2, hang, refusedPort] = await Promise.all([
      resetOnRequest(),
      resetOnRequest(),
      startScriptedServer(() => undefined),
      closedPort(),
    ]);
    const t = (port: number): { target: string } => ({ target: `127.0.0.1:${port}` });
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [
          { name: 'after-reset', host: 'reset-then-good', port: 80, retries: 1, routes: [{ name: 'after-reset', paths: ['/after-reset'] }] },
          {
            name: 'after-timeout',
            host: 'hang-then-good',
            port: 80,
            retries: 1,
            read_timeout: 300,
            routes: [{ name: 'after-timeout', paths: ['/after-timeout'] }],
          },
          { name: 'both-reset', host: 'both-reset', port: 80, retries: 5, routes: [{ name: 'both-reset', paths: ['/both-reset'] }] },
          { name: 'after-refused', host: 'refused-then-good', port: 80, retries: 1, routes: [{ name: 'after-refused', paths: ['/after-refused'] }] },
        ],
        upstreams: [
          { name: 'reset-then-good', targets: [t(reset.port), t(good.port)] },
          { name: 'hang-then-good', targets: [t(hang.port), t(good.port)] },
          { name: 'both-reset', targets: [t(reset.port), t(reset2.port)] },
          { name: 'refused-then-good', targets: [t(refusedPort), t(good.port)] },
        ],
      },
    });
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([good?.close(), reset?.close(), reset2?.close(), hang?.close()]);
  });

  it('retries a GET on the next target after a reset', async () => {
    const resetBefore = reset.heads();
    const goodBefore = good.heads();
    for (let i = 0; i < ROUNDS; i++) {
      const res = await request(`${gw.proxyUrl}/after-reset/${i}`);
      assert.equal(res.status, 200, `request ${i}: ${res.text}`);
      assert.equal(res.json().server, 'good');
    }
    assert.ok(reset.heads() > resetBefore, 'some GETs went to the resetting target first');
    assert.equal(good.heads() - goodBefore, ROUNDS, 'each GET reached the good target exactly once');
  });

  it('retries a GET on the next target after a read timeout', async () => {
    const hangBefore = hang.heads();
    for (let i = 0; i < TIMEOUT_ROUNDS; i++) {
      const res = await request(`${gw.proxyUrl}/after-timeout/${i}`);
      assert.equal(res.status, 200, `request ${i}: ${res.text}`);
      assert.equal(res.json().server, 'good');
    }
    assert.ok(hang.heads() > hangBefore, 'some GETs waited out read_timeout on the hung target first');
  });

  it('does not retry a POST once its request was sent (the upstreams see exactly one try)', async () => {
    const tries = (): number => reset.heads() + reset2.heads();
    for (let i = 0; i < ROUNDS; i++) {
      const before = tries();
      const res = await request(`${gw.proxyUrl}/both-reset/${i}`, { method: 'POST', body: `payload ${i}` });
      assert.equal(res.status, 502, res.text);
      assert.equal(tries() - before, 1, `POST ${i} reached the upstreams ${tries() - before} times`);
    }
    // The same upstream does retry a GET (retries: 5 → six tries), so the single POST try is the method's doing.
    const before = tries();
    assert.equal((await request(`${gw.proxyUrl}/both-reset/get`)).status, 502);
    assert.equal(tries() - before, 6, 'a GET is tried 1 + retries times');
  });

  it('retries a connect failure for a request with a body, and the body arrives intact', async () => {
    const goodBefore = good.heads();
    for (let i = 0; i < ROUNDS; i++) {
      // Larger than the gateway's 256 KiB queue mark, so the client is paused and resumed meanwhile.
      const body = patternBytes(600 * 1024 + i, i + 7);
      const res = await request(`${gw.proxyUrl}/after-refused/${i}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/octet-stream' },
      });
      assert.equal(res.status, 200, `POST ${i}: ${res.text}`);
      const seen = res.json<{ server: string; length: number; sha: string }>();
      assert.equal(seen.length, body.length, `POST ${i}: body length`);
      assert.equal(seen.sha, sha256(body), `POST ${i}: body content`);
    }
    assert.equal(good.heads() - goodBefore, ROUNDS, 'each POST reached the good target exactly once');
  });
});
