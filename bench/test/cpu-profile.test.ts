import assert from 'node:assert/strict';
import { test } from 'node:test';
import { categoryOf, summarize, type CpuProfile } from '../lib/cpu-profile';

test('frames fall into the performance program categories by their script', () => {
  assert.equal(categoryOf('(garbage collector)', ''), 'GC');
  assert.equal(categoryOf('(idle)', ''), 'idle');
  assert.equal(categoryOf('end', ''), 'native (uWS, V8)');
  assert.equal(categoryOf('onData', 'file:///x/node_modules/undici/lib/dispatcher/client-h1.js'), 'undici');
  assert.equal(categoryOf('writeGeneric', 'node:internal/stream_base_commons'), 'node core');
  assert.equal(categoryOf('handle', 'file:///x/dist/src/worker/server/app.js'), 'hyperway worker');
  assert.equal(categoryOf('access', 'file:///x/dist/src/plugins/cors/handler.js'), 'hyperway plugins');
  assert.equal(categoryOf('log', 'file:///x/dist/src/lib/log.js'), 'hyperway other');
  assert.equal(categoryOf('f', 'file:///x/node_modules/msgpackr/pack.js'), 'other JS');
});

test('self time: each sample\'s delta goes to the frame it landed in', () => {
  const p: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
      { id: 2, callFrame: { functionName: 'handle', url: 'file:///x/dist/src/worker/server/app.js', lineNumber: 9 } },
      { id: 3, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
    ],
    samples: [2, 2, 3, 2],
    timeDeltas: [100, 50, 1000, 25],
    startTime: 0,
    endTime: 1175,
  };
  const s = summarize(p);
  assert.equal(s.totalUs, 1175);
  assert.equal(s.byCategory.get('hyperway worker'), 175);
  assert.equal(s.byCategory.get('idle'), 1000);
  assert.deepEqual(s.top[0], ['(idle)', 1000]);
  assert.deepEqual(s.top[1], ['handle (dist/src/worker/server/app.js:10)', 175]);
});
