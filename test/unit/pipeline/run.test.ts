// The phase loops: sync and async access, short-circuits, aborts, failures, and which plugins'
// header filters run after an exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PluginHandler } from '../../../src/plugins/types';
import { NO_CONF, type PluginChain } from '../../../src/worker/pipeline/chain';
import { runAccess, runHeaderFilter, runBodyFilter, reachedPhase, type PipelineHost } from '../../../src/worker/pipeline/run';
import { FakeContext } from '../../plugins/fake-context';

class Host extends FakeContext implements PipelineHost {
  pluginConfs: unknown[] | null = null;
  aborted = false;
  done = 0;
  failed: string[] = [];
  constructor(readonly chain: PluginChain) { super(); }
  accessDone(): void { this.done++; }
  pluginFailed(plugin: string, err: unknown): void { this.failed.push(`${plugin}: ${(err as Error).message}`); }
}

function chain(handlers: PluginHandler<unknown>[]): PluginChain {
  const entries = handlers.map((handler) => ({ handler, conf: { name: handler.name }, byConsumer: null, plugin: handler.name }));
  return {
    entries,
    hasAccess: true,
    hasHeaderFilter: handlers.some((h) => h.headerFilter),
    hasBodyFilter: handlers.some((h) => h.bodyFilter),
    hasLog: false,
    hasMeasure: false,
  };
}

const trace: string[] = [];
function plugin(name: string, access?: PluginHandler<unknown>['access']): PluginHandler<unknown> {
  return {
    name, priority: 1, version: '1',
    access: access ?? (() => { trace.push(`${name}.access`); }),
    headerFilter(ctx) { trace.push(`${name}.header`); ctx.addResponseHeader('x-seen', name); },
  };
}

test('sync access runs every plugin in order, then continues to the upstream once', () => {
  trace.length = 0;
  const host = new Host(chain([plugin('a'), plugin('b')]));
  runAccess(host);
  assert.deepEqual(trace, ['a.access', 'b.access']);
  assert.equal(host.done, 1);
});

test('an exit stops access; header filters run for the plugins reached, the exiting one included', () => {
  trace.length = 0;
  const host = new Host(chain([plugin('cors'), plugin('auth', (ctx) => { trace.push('auth.access'); ctx.exit(401, { message: 'no' }); }), plugin('late')]));
  runAccess(host);
  assert.equal(host.done, 0);
  assert.equal(host.exitRecord?.status, 401);
  runHeaderFilter(host);
  assert.deepEqual(trace, ['cors.access', 'auth.access', 'cors.header', 'auth.header']);
  assert.deepEqual(host.pluginConfs?.map((c) => c === NO_CONF ? '-' : 'ran'), ['ran', 'ran', '-']);
});

test('async access resumes after the promise, with the next plugin', async () => {
  trace.length = 0;
  const host = new Host(chain([plugin('a', async () => { await new Promise((r) => setTimeout(r, 5)); trace.push('a.async'); }), plugin('b')]));
  runAccess(host);
  assert.deepEqual(trace, []);
  assert.equal(host.done, 0);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(trace, ['a.async', 'b.access']);
  assert.equal(host.done, 1);
});

test('a request aborted while a plugin awaits goes no further', async () => {
  trace.length = 0;
  const host = new Host(chain([plugin('a', async () => { await new Promise((r) => setTimeout(r, 5)); }), plugin('b')]));
  runAccess(host);
  host.aborted = true;
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(trace, []);
  assert.equal(host.done, 0);
  assert.deepEqual(host.failed, []);
});

test('a throw or a rejection is a plugin failure, once, and access stops', async () => {
  trace.length = 0;
  const thrower = new Host(chain([plugin('a', () => { throw new Error('boom'); }), plugin('b')]));
  runAccess(thrower);
  assert.deepEqual(thrower.failed, ['a: boom']);
  const rejecter = new Host(chain([plugin('a', () => Promise.reject(new Error('later'))), plugin('b')]));
  runAccess(rejecter);
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(rejecter.failed, ['a: later']);
  assert.deepEqual(trace, []);
  assert.equal(thrower.done + rejecter.done, 0);
});

test('body filters chain their output; only reached plugins count', () => {
  const upper: PluginHandler<unknown> = { name: 'u', priority: 2, version: '1', bodyFilter: (_c, _conf, chunk) => Buffer.from(chunk.toString().toUpperCase()) };
  const wrap: PluginHandler<unknown> = { name: 'w', priority: 1, version: '1', bodyFilter: (_c, _conf, chunk, last) => Buffer.concat([chunk, Buffer.from(last ? '!' : '')]) };
  const host = new Host(chain([upper, wrap]));
  assert.equal(reachedPhase(host, 'bodyFilter'), false); // access has not run yet
  runAccess(host);
  assert.equal(reachedPhase(host, 'bodyFilter'), true);
  assert.equal(runBodyFilter(host, Buffer.from('ab'), false).toString(), 'AB');
  assert.equal(runBodyFilter(host, Buffer.from('c'), true).toString(), 'C!');
});
