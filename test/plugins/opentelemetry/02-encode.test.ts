import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeExport, encodeSpan, exportFrame, SPAN_KIND, STATUS_CODE, type SpanData } from '../../../src/plugins/lib/otlp-encode';
import { formatTraceparent, parseTraceparent, randomId, sampledByRate } from '../../../src/plugins/opentelemetry/trace-context';
import { decodeExport } from './otlp-receiver';

function span(over: Partial<SpanData> = {}): SpanData {
  return {
    traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'),
    spanId: Buffer.from('b7ad6b7169203331', 'hex'),
    parentSpanId: Buffer.from('00f067aa0ba902b7', 'hex'),
    traceState: 'congo=t61rcWkgMzE',
    name: 'kong',
    kind: SPAN_KIND.SERVER,
    startMs: 1764568800123.456,
    endMs: 1764568800130.5,
    attributes: ['http.method', 'GET', 'http.status_code', 200, 'neg', -3, 'ratio', 0.25, 'ok', true, 'utf8', 'é✓', 'long', 'x'.repeat(300)],
    statusCode: STATUS_CODE.ERROR,
    flags: 1,
    ...over,
  };
}

test('otlp-encode: an export decodes with protobufjs against the official field numbers', () => {
  const frame = exportFrame(['service.name', 'kong', 'deployment.environment', 'test'], 'kong-internal', '0.1.0');
  const body = encodeExport(frame, [encodeSpan(span()), encodeSpan(span({ name: 'kong.balancer', kind: SPAN_KIND.CLIENT, parentSpanId: null, traceState: '', statusCode: 0, attributes: [] }))]);
  const [a, b] = decodeExport(body);
  assert.equal(a.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(a.spanId, 'b7ad6b7169203331');
  assert.equal(a.parentSpanId, '00f067aa0ba902b7');
  assert.equal(a.traceState, 'congo=t61rcWkgMzE');
  assert.equal(a.name, 'kong');
  assert.equal(a.kind, 2);
  assert.equal(a.startNs, 1764568800123456000n);
  assert.equal(a.endNs, 1764568800130500000n);
  assert.deepEqual(a.attributes, { 'http.method': 'GET', 'http.status_code': 200, neg: -3, ratio: 0.25, ok: true, utf8: 'é✓', long: 'x'.repeat(300) });
  assert.equal(a.statusCode, 2);
  assert.equal(a.flags, 1);
  assert.deepEqual(a.resource, { 'service.name': 'kong', 'deployment.environment': 'test' });
  assert.equal(a.scope, 'kong-internal');
  assert.equal(b.name, 'kong.balancer');
  assert.equal(b.kind, 3);
  assert.equal(b.parentSpanId, '');
  assert.equal(b.statusCode, 0);
});

test('otlp-encode: a batch of 500 spans is 500 spans', () => {
  const frame = exportFrame(['service.name', 'kong'], 'kong-internal', '0.1.0');
  const spans = Array.from({ length: 500 }, () => encodeSpan(span({ spanId: randomId(8) })));
  const got = decodeExport(encodeExport(frame, spans));
  assert.equal(got.length, 500);
  assert.equal(new Set(got.map((s) => s.spanId)).size, 500);
});

test('traceparent: valid ones parse, invalid ones start a new trace', () => {
  const p = parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  assert.ok(p);
  assert.equal(p.traceId.toString('hex'), '0af7651916cd43dd8448eb211c80319c');
  assert.equal(p.parentId.toString('hex'), 'b7ad6b7169203331');
  assert.equal(p.flags, 1);
  assert.ok(parseTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-extra'), 'a later version may add fields');
  for (const bad of [
    null,
    '',
    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra',
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
    '00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01',
    '00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  ]) assert.equal(parseTraceparent(bad), null, String(bad));
  assert.equal(formatTraceparent(p.traceId, p.parentId, 1), '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  assert.equal(formatTraceparent(p.traceId, p.parentId, 0x3f), '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-3f');
});

test('sampler: rate 0 never, 1 always, 0.25 about a quarter, the same decision for the same trace id', () => {
  let n = 0;
  const ids = Array.from({ length: 4000 }, () => randomId(16));
  for (const id of ids) {
    assert.equal(sampledByRate(id, 0), false);
    assert.equal(sampledByRate(id, 1), true);
    if (sampledByRate(id, 0.25)) n++;
    assert.equal(sampledByRate(id, 0.25), sampledByRate(Buffer.from(id), 0.25));
  }
  assert.ok(n > 800 && n < 1200, `${n} of 4000 sampled at 0.25`);
});
