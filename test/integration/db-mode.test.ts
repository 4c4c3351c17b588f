/**
 * Kong's database mode on a real Postgres (one server for the file, one database per test): the
 * migrations commands, db_import/db_export and a start with only a Kong container's environment;
 * two gateway nodes (2 workers each) on one database sharing every Admin API change through
 * LISTEN/NOTIFY within a second (the time is measured and printed), concurrent writes through
 * both, a change without a notification caught by the version check, a database outage (serve,
 * report, 503, catch up; a node started meanwhile runs from its cache), and a Redis rate limit
 * counted across both nodes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/primary/config';
import { request } from '../helpers/http-client';
import { postgresAvailable, startPostgres, type PostgresServer } from '../helpers/postgres';
import { startRedis } from '../helpers/redis';
import { CLI_PATH, gatewayEnv, startGateway, type Gateway } from '../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../helpers/upstream';
import { waitFor } from '../helpers/wait';
import { freePorts } from '../helpers/ports';
import { killGroupAndWait, trackGroup, untrackGroup } from '../helpers/proc';

const SEED3 = resolve(__dirname, '../../../../shared/seed-configs/seed3-microservices.kong.yml');
const EMPTY = { _format_version: '3.0' };

interface CliResult { code: number | null; stdout: string; stderr: string }

function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [CLI_PATH, ...args], { env: gatewayEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

const json = (body: unknown): { method: string; headers: Record<string, string>; body: string } => ({
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

/** `n` requests on fresh connections (spread over the node's workers): their status codes. */
async function statuses(gw: Gateway, path: string, n = 10): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await request(`${gw.proxyUrl}${path}`, { headers: { connection: 'close' } })).status);
  return out;
}

/** Every worker of `gw` acknowledged the snapshot the primary holds, and it differs from `hash`. */
async function allWorkersPast(gw: Gateway, hash: string): Promise<boolean> {
  const s = await gw.status();
  return s.configuration_hash !== hash && s.workers.length === 2 && s.workers.every((w) => w.config_version === s.config_version);
}

describe('database mode (Postgres)', { skip: postgresAvailable() || process.env.CI ? false : 'Postgres is not installed or cannot run here (under CI it must be: the tests then fail)' }, () => {
  let pg: PostgresServer;
  let echo: EchoServer;
  let dir: string;
  const gateways: Gateway[] = [];

  before(async () => {
    [pg, echo] = await Promise.all([startPostgres(), startEchoServer('echo')]);
    dir = mkdtempSync(join(tmpdir(), 'hyperway-db-mode-'));
  });
  after(async () => {
    for (const gw of gateways) await gw.stop();
    await echo?.close();
    await pg?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const bootstrapped = async (): Promise<Record<string, string>> => {
    const env = pg.env(await pg.createDatabase());
    const r = await cli(['migrations', 'bootstrap'], env);
    assert.equal(r.code, 0, r.stderr);
    return env;
  };
  /** `pollS`: the version check's period; long, so that only NOTIFY can propagate a change in time. */
  const node = async (env: Record<string, string>, cache: string, pollS = 60): Promise<Gateway> => {
    const gw = await startGateway({ config: EMPTY, env: { ...env, HYPERWAY_DB_CACHE_FILE: join(dir, cache), HYPERWAY_DB_UPDATE_FREQUENCY: String(pollS) } });
    gateways.push(gw);
    return gw;
  };

  it('migrations bootstrap creates the schema; a second bootstrap is harmless and says so; up and list agree', { timeout: 30_000 }, async () => {
    const env = pg.env(await pg.createDatabase());
    const first = await cli(['migrations', 'bootstrap'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /2 migrations processed/);
    const tables = await pg.query<{ t: string }>(env.KONG_PG_DATABASE, "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    assert.deepEqual(tables.map((r) => r.t), ['acls', 'basicauth_credentials', 'ca_certificates', 'certificates', 'consumers', 'hyperway_config_version', 'hyperway_migrations', 'jwt_secrets', 'keyauth_credentials', 'plugins', 'routes', 'services', 'snis', 'targets', 'upstreams']);
    await pg.query(env.KONG_PG_DATABASE, "INSERT INTO services (id, entity) VALUES ('8abdc7bf-94c2-55eb-a8e3-4412316d1b02', '{\"name\":\"kept\"}')");
    const second = await cli(['migrations', 'bootstrap'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already bootstrapped/);
    assert.equal((await pg.query(env.KONG_PG_DATABASE, 'SELECT name FROM services')).length, 1, 'a second bootstrap must not drop data');
    const up = await cli(['migrations', 'up'], env);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /already up-to-date/);
    const list = await cli(['migrations', 'list'], env);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /000_base_hyperway[\s\S]*001_tls_entities[\s\S]*up-to-date/);
  });

  it('start refuses a database that is not bootstrapped, naming the command', { timeout: 30_000 }, async () => {
    const env = pg.env(await pg.createDatabase());
    await assert.rejects(startGateway({ config: EMPTY, env: { ...env, HYPERWAY_DB_CACHE_FILE: join(dir, 'none.json') }, readyTimeoutMs: 10_000 }), /not bootstrapped: run 'hyperway migrations bootstrap'/);
  });

  it('db_import then db_export round-trips the seed-3 config (same entities; the export loads as a file); a node started as a Kong container is (env only) serves it', { timeout: 30_000 }, async () => {
    const env = await bootstrapped();
    const imp = await cli(['config', 'db_import', SEED3], env);
    assert.equal(imp.code, 0, imp.stderr);
    const outFile = join(dir, 'export.yml');
    const exp = await cli(['config', 'db_export', outFile], env);
    assert.equal(exp.code, 0, exp.stderr);
    const original = loadConfigFile(SEED3, {}, 1).entities;
    const exported = loadConfigFile(outFile, {}, 1).entities;
    const byId = (set: typeof original): Record<string, unknown[]> =>
      Object.fromEntries(Object.entries(set).map(([k, list]) => [k, [...list].sort((a, b) => a.id.localeCompare(b.id))]));
    assert.ok(original.services.length > 0 && original.routes.length > 0);
    assert.deepEqual(byId(exported), byId(original));

    // A Kong container's steps, one to one: KONG_DATABASE + KONG_PG_*, no declarative file, `start`.
    const [proxyPort, adminPort] = await freePorts(2);
    const child = spawn(process.execPath, [CLI_PATH, 'start'], {
      env: gatewayEnv({ ...env, KONG_PROXY_LISTEN: `127.0.0.1:${proxyPort}`, KONG_ADMIN_LISTEN: `127.0.0.1:${adminPort}`, HYPERWAY_WORKERS: '2', HYPERWAY_DB_CACHE_FILE: join(dir, 'container.json') }),
      detached: true, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    const pgid = child.pid!;
    trackGroup(pgid);
    try {
      const services = await waitFor('the container-style node to serve its Admin API', async () => {
        const r = await request(`http://127.0.0.1:${adminPort}/services`);
        return r.status === 200 ? r.json<{ data: Array<{ name: string }> }>().data.map((x) => x.name).sort() : null;
      }, { timeoutMs: 15_000 });
      assert.deepEqual(services, original.services.map((x) => String(x.name)).sort());
      // No file given: nothing (the demo config's entities) was loaded and ignored.
      assert.doesNotMatch(stderr, /are ignored/);
    } finally {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      await killGroupAndWait(pgid);
      untrackGroup(pgid);
    }
  });

  it('two nodes on one database: a change through node A is served by every worker of node B within 1 s; a delete through B likewise on A', { timeout: 60_000 }, async (t) => {
    const env = await bootstrapped();
    const [a, b] = await Promise.all([node(env, 'a.json'), node(env, 'b.json')]);
    const svc = await request(`${a.adminUrl}/services`, json({ name: 'shared', url: `http://127.0.0.1:${echo.port}` }));
    assert.equal(svc.status, 201, svc.text);
    // The measurement starts from node B holding the service (its own change, not the route's).
    await waitFor('node B to hold the service', async () => (await b.admin('/services/shared')).status === 200);
    const bHash = (await b.status()).configuration_hash;
    const route = await request(`${a.adminUrl}/services/shared/routes`, json({ name: 'shared-route', paths: ['/shared'] }));
    assert.equal(route.status, 201, route.text);
    const t0 = Date.now();
    await waitFor('node B to serve the route from every worker', () => allWorkersPast(b, bHash), { timeoutMs: 5000, intervalMs: 10 });
    const created = Date.now() - t0;
    t.diagnostic(`create: node A's 201 → every worker of node B acked: ${created} ms`);
    assert.deepEqual(await statuses(b, '/shared'), Array(10).fill(200));
    assert.deepEqual(await statuses(a, '/shared'), Array(10).fill(200));
    // B's Admin API reads the same entities, ids included.
    assert.equal((await b.admin('/routes/shared-route')).json<{ id: string }>().id, route.json<{ id: string }>().id);

    const aHash = (await a.status()).configuration_hash;
    const del = await request(`${b.adminUrl}/routes/shared-route`, { method: 'DELETE' });
    assert.equal(del.status, 204, del.text);
    const t1 = Date.now();
    await waitFor('node A to drop the route on every worker', () => allWorkersPast(a, aHash), { timeoutMs: 5000, intervalMs: 10 });
    const deleted = Date.now() - t1;
    t.diagnostic(`delete: node B's 204 → every worker of node A acked: ${deleted} ms`);
    assert.deepEqual(await statuses(a, '/shared'), Array(10).fill(404));
    assert.ok(created < 1000 && deleted < 1000, `propagation took ${created} ms / ${deleted} ms (goal: under 1 s)`);

    // Changes made at once through both nodes: neither is lost, both nodes end with both.
    const names = Array.from({ length: 6 }, (_, i) => `both-${i}`);
    const answers = await Promise.all(names.map((name, i) => request(`${(i % 2 === 0 ? a : b).adminUrl}/services`, json({ name, url: `http://127.0.0.1:${echo.port}` }))));
    assert.deepEqual(answers.map((r) => r.status), Array(6).fill(201), answers.map((r) => r.text).join('\n'));
    for (const gw of [a, b]) {
      await waitFor('every service on the node', async () => {
        const listed = (await gw.admin('/services')).json<{ data: Array<{ name: string }> }>().data.map((x) => x.name);
        return names.every((n) => listed.includes(n));
      }, { timeoutMs: 5000 });
    }
    const inDb = await pg.query<{ name: string }>(env.KONG_PG_DATABASE, "SELECT name FROM services WHERE name LIKE 'both-%' ORDER BY name");
    assert.deepEqual(inDb.map((r) => r.name), names);
  });

  it("a name another node took first (its notification lost) is Kong's 409, and the node catches up at once", { timeout: 60_000 }, async () => {
    const env = await bootstrapped();
    const a = await node(env, 'c409.json');
    // Another writer's commit, its NOTIFY lost: node A (version check every 60 s) cannot know of it before its own commit.
    await pg.query(env.KONG_PG_DATABASE, 'UPDATE hyperway_config_version SET version = version + 1 WHERE id = 1');
    await pg.query(env.KONG_PG_DATABASE, `INSERT INTO services (id, entity) VALUES ('0b5d7a4e-6a47-4f0e-9a53-6d1f8b1c0409', '{"id":"0b5d7a4e-6a47-4f0e-9a53-6d1f8b1c0409","name":"raced","host":"127.0.0.1","port":${echo.port},"protocol":"http"}')`);
    const r = await request(`${a.adminUrl}/services`, json({ name: 'raced', url: `http://127.0.0.1:${echo.port}` }));
    assert.equal(r.status, 409, r.text);
    assert.deepEqual(r.json(), { code: 5, name: 'unique constraint violation', message: `UNIQUE violation detected on '{name="raced"}'`, fields: { name: 'raced' } });
    await waitFor("node A to read the other writer's service", async () => (await a.admin('/services/raced')).json<{ id?: string }>().id === '0b5d7a4e-6a47-4f0e-9a53-6d1f8b1c0409', { timeoutMs: 5000 });
  });

  it('the database down: both nodes keep serving, report it, writes get 503; after it returns they catch up; a node started meanwhile runs from its cache', { timeout: 60_000 }, async () => {
    const env = await bootstrapped();
    const [a, b] = await Promise.all([node(env, 'a2.json'), node(env, 'b2.json')]);
    assert.equal((await request(`${a.adminUrl}/services`, json({ name: 'kept', url: `http://127.0.0.1:${echo.port}` }))).status, 201);
    assert.equal((await request(`${a.adminUrl}/services/kept/routes`, json({ name: 'kept-route', paths: ['/kept'] }))).status, 201);
    await waitFor('node B to serve /kept', async () => (await statuses(b, '/kept', 2)).every((s) => s === 200));

    await pg.stop();
    for (const gw of [a, b]) {
      await waitFor('the node to see the database down', async () => ((await gw.status()) as unknown as { database?: { reachable: boolean } }).database?.reachable === false);
      assert.deepEqual(await statuses(gw, '/kept'), Array(10).fill(200));
      assert.match((await gw.admin('/metrics')).text, /^kong_datastore_reachable 0$/m);
    }
    const refused = await request(`${a.adminUrl}/services`, json({ name: 'during-outage', url: `http://127.0.0.1:${echo.port}` }));
    assert.equal(refused.status, 503, refused.text);
    assert.equal((await b.admin('/services/during-outage')).status, 404);

    // A third node starting now has only node A's cache of the last configuration.
    const c = await startGateway({ config: EMPTY, env: { ...env, HYPERWAY_DB_CACHE_FILE: join(dir, 'a2.json') } });
    gateways.push(c);
    assert.match(c.output(), /cannot reach the database .* starting from the configuration cached in/);
    assert.deepEqual(await statuses(c, '/kept'), Array(10).fill(200));

    await pg.start();
    for (const gw of [a, b, c]) {
      await waitFor('the node to reach the database again', async () => ((await gw.status()) as unknown as { database?: { reachable: boolean } }).database?.reachable === true, { timeoutMs: 10_000 });
    }
    const added = await request(`${b.adminUrl}/services/kept/routes`, json({ name: 'after-route', paths: ['/after'] }));
    assert.equal(added.status, 201, added.text);
    for (const gw of [a, c]) await waitFor('the change after recovery to reach the node', async () => (await statuses(gw, '/after', 4)).every((s) => s === 200), { timeoutMs: 5000 });
    assert.match((await a.admin('/metrics')).text, /^kong_datastore_reachable 1$/m);
  });

  it('the fleet: a Redis rate limit created through node A counts the requests of both nodes', { timeout: 60_000 }, async () => {
    const redis = await startRedis();
    try {
      const env = await bootstrapped();
      const [a, b] = await Promise.all([node(env, 'a3.json'), node(env, 'b3.json')]);
      assert.equal((await request(`${a.adminUrl}/services`, json({ name: 'limited', url: `http://127.0.0.1:${echo.port}` }))).status, 201);
      assert.equal((await request(`${a.adminUrl}/services/limited/routes`, json({ name: 'limited-route', paths: ['/limited'] }))).status, 201);
      const bHash = (await b.status()).configuration_hash;
      const plugin = await request(`${a.adminUrl}/services/limited/plugins`, json({ name: 'rate-limiting', config: { hour: 6, policy: 'redis', redis: { host: '127.0.0.1', port: redis.port, timeout: 500 } } }));
      assert.equal(plugin.status, 201, plugin.text);
      await waitFor('node B to run the plugin', async () => (await allWorkersPast(b, bHash)) && (await b.admin('/plugins')).json<{ data: unknown[] }>().data.length === 1);
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) seen.push(...(await statuses(a, '/limited', 1)), ...(await statuses(b, '/limited', 1)));
      assert.deepEqual(seen, [200, 200, 200, 200, 200, 200, 429, 429, 429, 429]);
    } finally {
      await redis.close();
    }
  });

  it('a change without a notification (missed, or written by another tool) is picked up by the version check', { timeout: 30_000 }, async () => {
    const env = await bootstrapped();
    const gw = await node(env, 'poll.json', 0.3);
    const db = env.KONG_PG_DATABASE;
    await pg.query(db, 'INSERT INTO services (id, entity) VALUES ($1, $2)', ['0b7a6a5e-58e4-4d5b-9a1c-3f8f0c7a1d01', { id: '0b7a6a5e-58e4-4d5b-9a1c-3f8f0c7a1d01', name: 'quiet', host: '127.0.0.1', port: echo.port, protocol: 'http' }]);
    await pg.query(db, 'INSERT INTO routes (id, entity) VALUES ($1, $2)', ['0b7a6a5e-58e4-4d5b-9a1c-3f8f0c7a1d02', { id: '0b7a6a5e-58e4-4d5b-9a1c-3f8f0c7a1d02', name: 'quiet-route', paths: ['/quiet'], service: { id: '0b7a6a5e-58e4-4d5b-9a1c-3f8f0c7a1d01' } }]);
    assert.deepEqual(await statuses(gw, '/quiet', 2), [404, 404], 'no version bump yet: nothing to pick up');
    await pg.query(db, 'UPDATE hyperway_config_version SET version = version + 1');
    await waitFor('the node to serve the quietly added route', async () => (await statuses(gw, '/quiet', 2)).every((x) => x === 200), { timeoutMs: 5000 });
  });
});
