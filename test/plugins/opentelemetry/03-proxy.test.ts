import assert from 'node:assert/strict';
import { Agent, get, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { request } from '../../helpers/http-client';
import { startGateway, type Gateway } from '../../helpers/start-gateway';
import { startEchoServer, type EchoServer } from '../../helpers/upstream';
import { waitFor } from '../../helpers/wait';
import { startOtlpReceiver, type DecodedSpan, type OtlpReceiver } from './otlp-receiver';

function config(echoPort: number, otlp: string): object {
  const queue = (size: number): object => ({ max_batch_size: size, max_coalescing_delay: 0.05 });
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'echo',
        // Through an upstream: the balancer span must name the target picked, not the service's host.
        host: 'echo-up',
        routes: [
          { name: 'traced', paths: ['/traced'] },
          { name: 'unsampled', paths: ['/unsampled'] },
          { name: 'batched', paths: ['/batched'] },
          { name: 'ignoring', paths: ['/ignoring'] },
        ],
      },
    ],
    upstreams: [{ name: 'echo-up', targets: [{ target: `127.0.0.1:${echoPort}` }] }],
    plugins: [
      {
        name: 'opentelemetry',
        route: 'traced',
        config: {
          traces_endpoint: `${otlp}/traced`,
          headers: { 'x-otlp-token': 'secret' },
          resource_attributes: { 'service.name': 'edge', 'deployment.environment': 'test' },
          http_response_header_for_traceid: 'x-trace-id',
          queue: queue(200),
        },
      },
      { name: 'opentelemetry', route: 'unsampled', config: { traces_endpoint: `${otlp}/unsampled`, sampling_rate: 0, queue: queue(200) } },
      { name: 'opentelemetry', route: 'ignoring', config: { traces_endpoint: `${otlp}/ignoring`, header_type: 'ignore', propagation: { clear: ['x-b3-traceid'] }, queue: queue(200) } },
      { name: 'opentelemetry', route: 'batched', config: { traces_endpoint: `${otlp}/batched`, sampling_rate: 1, queue: queue(5) } },
    ],
  };
}

interface Parent { version: string; traceId: string; spanId: string; flags: string }

function parseParent(h: IncomingHttpHeaders | undefined): Parent {
  const v = h?.traceparent;
  assert.equal(typeof v, 'string', 'the upstream received a traceparent');
  const [version, traceId, spanId, flags] = (v as string).split('-');
  return { version, traceId, spanId, flags };
}

/** Requests over one keep-alive connection, so they are served by one worker, in order. */
function oneConnection(base: string): { get(path: string, headers?: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders }>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    get: (path, headers = {}) =>
      new Promise((resolve, reject) => {
        get(base + path, { agent, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        }).on('error', reject);
      }),
    close: () => agent.destroy(),
  };
}

describe('opentelemetry through the gateway, to a real OTLP/HTTP receiver', () => {
  let echo: EchoServer;
  let otlp: OtlpReceiver;
  let gw: Gateway;

  before(async () => {
    echo = await startEchoServer('otel-up');
    otlp = await startOtlpReceiver();
    gw = await startGateway({ config: config(echo.port, otlp.url) });
  });
  after(async () => {
    await gw?.stop();
    await otlp?.close();
    await echo?.close();
  });

  /** What the upstream got for a gateway path (routes strip their prefix: matched by X-Forwarded-Path). */
  const upstreamSaw = (path: string): IncomingHttpHeaders | undefined => echo.requests.find((r) => r.headers['x-forwarded-path'] === path)?.headers;
  const spansOf = (traceId: string): DecodedSpan[] => otlp.spans().filter((s) => s.traceId === traceId);

  it('starts a trace: the upstream gets a new traceparent, the root span `kong` and its `kong.balancer` child are exported as protobuf', async () => {
    const res = await request(`${gw.proxyUrl}/traced/new`);
    assert.equal(res.status, 200);
    const p = parseParent(upstreamSaw('/traced/new'));
    assert.equal(p.version, '00');
    assert.match(p.traceId, /^[0-9a-f]{32}$/);
    assert.match(p.spanId, /^[0-9a-f]{16}$/);
    assert.equal(p.flags, '01', 'sampled');
    assert.equal(res.headers['x-trace-id'], p.traceId, 'http_response_header_for_traceid');

    const spans = await waitFor('both spans of the trace', () => (spansOf(p.traceId).length >= 2 ? spansOf(p.traceId) : undefined));
    assert.equal(spans.length, 2);
    const root = spans.find((s) => s.name === 'kong') as DecodedSpan;
    const balancer = spans.find((s) => s.name === 'kong.balancer') as DecodedSpan;
    assert.ok(root && balancer, spans.map((s) => s.name).join());
    assert.equal(root.parentSpanId, '', 'a new trace has no parent');
    assert.equal(root.kind, 2, 'server');
    assert.equal(balancer.spanId, p.spanId, 'the span id sent upstream is the balancer span');
    assert.equal(balancer.parentSpanId, root.spanId);
    assert.equal(balancer.kind, 3, 'client');
    assert.notEqual(root.spanId, p.spanId);
    assert.equal(root.attributes['http.method'], 'GET');
    assert.equal(root.attributes['http.status_code'], 200);
    assert.match(String(root.attributes['http.url']), /\/traced\/new$/);
    assert.equal(root.attributes['kong.route.name'], 'traced');
    assert.equal(root.attributes['kong.service.name'], 'echo');
    assert.equal(root.attributes['net.peer.ip'], '127.0.0.1');
    assert.equal(balancer.attributes['net.peer.name'], '127.0.0.1');
    assert.equal(balancer.attributes['net.peer.port'], echo.port);
    assert.ok(root.startNs <= balancer.startNs && balancer.endNs <= root.endNs, 'the balancer span lies inside the root span');
    assert.deepEqual({ name: root.resource['service.name'], env: root.resource['deployment.environment'] }, { name: 'edge', env: 'test' });
    assert.equal(root.resource['service.version'], '3.10.0');
    const post = otlp.posts.find((x) => x.spans.some((s) => s.traceId === p.traceId));
    assert.equal(post?.path, '/traced');
    assert.equal(post?.contentType, 'application/x-protobuf');
    assert.equal(post?.headers['x-otlp-token'], 'secret');
  });

  it('continues an incoming trace: same trace id, a new span id per hop, tracestate kept, the caller as parent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const res = await request(`${gw.proxyUrl}/traced/continued`, { headers: { traceparent: `00-${traceId}-${callerSpan}-01`, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' } });
    assert.equal(res.status, 200);
    const up = upstreamSaw('/traced/continued');
    const p = parseParent(up);
    assert.equal(p.traceId, traceId);
    assert.notEqual(p.spanId, callerSpan, 'a new span id for the next hop');
    assert.equal(p.flags, '01');
    assert.equal(up?.tracestate, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    const spans = await waitFor('the continued trace', () => (spansOf(traceId).length >= 2 ? spansOf(traceId) : undefined));
    const root = spans.find((s) => s.name === 'kong') as DecodedSpan;
    assert.equal(root.parentSpanId, callerSpan);
    assert.equal(root.traceState, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    assert.equal(spans.find((s) => s.name === 'kong.balancer')?.spanId, p.spanId);
  });

  it('header_type ignore starts a new trace whatever the client sent; propagation.clear removes headers', async () => {
    const incoming = '6bf92f3577b34da6a3ce929d0e0e4736';
    const res = await request(`${gw.proxyUrl}/ignoring/x`, { headers: { traceparent: `00-${incoming}-00f067aa0ba902b7-01`, tracestate: 'a=b', 'x-b3-traceid': 'abc' } });
    assert.equal(res.status, 200);
    const up = upstreamSaw('/ignoring/x');
    const p = parseParent(up);
    assert.notEqual(p.traceId, incoming);
    assert.equal(up?.tracestate, undefined, 'a tracestate belongs to the trace it came with');
    assert.equal(up?.['x-b3-traceid'], undefined);
    const spans = await waitFor('the new trace', () => (spansOf(p.traceId).length >= 2 ? spansOf(p.traceId) : undefined));
    assert.equal(spans.find((s) => s.name === 'kong')?.parentSpanId, '');
  });

  it('honours an unsampled parent and sampling_rate 0: traceparent still propagated, nothing exported', async () => {
    const conn = oneConnection(gw.proxyUrl);
    try {
      const unsampledTrace = '5bf92f3577b34da6a3ce929d0e0e4736';
      await conn.get('/traced/parent-unsampled', { traceparent: `00-${unsampledTrace}-00f067aa0ba902b7-00` });
      const a = parseParent(upstreamSaw('/traced/parent-unsampled'));
      assert.equal(a.traceId, unsampledTrace);
      assert.equal(a.flags, '00');
      const zeroTraces: string[] = [];
      for (let i = 0; i < 5; i++) {
        await conn.get(`/unsampled/${i}`);
        const p = parseParent(upstreamSaw(`/unsampled/${i}`));
        assert.equal(p.flags, '00', 'sampling_rate 0 marks the trace unsampled');
        zeroTraces.push(p.traceId);
      }
      // A sampled request after them on the same worker: once it is exported, anything queued before would have been.
      await conn.get('/traced/marker');
      const marker = parseParent(upstreamSaw('/traced/marker'));
      await waitFor('the marker span', () => spansOf(marker.traceId).length >= 2);
      assert.deepEqual(spansOf(unsampledTrace), []);
      for (const t of zeroTraces) assert.deepEqual(spansOf(t), []);
      assert.equal(otlp.posts.filter((x) => x.path === '/unsampled').length, 0);
    } finally {
      conn.close();
    }
  });

  it('a batch of N requests is N root spans (and N balancer spans), in batches of at most max_batch_size', async () => {
    const n = 12;
    await Promise.all(Array.from({ length: n }, async (_, i) => assert.equal((await request(`${gw.proxyUrl}/batched/${i}`)).status, 200)));
    const traces = Array.from({ length: n }, (_, i) => parseParent(upstreamSaw(`/batched/${i}`)));
    assert.equal(new Set(traces.map((t) => t.traceId)).size, n, 'a new trace per request');
    const posts = (): typeof otlp.posts => otlp.posts.filter((x) => x.path === '/batched');
    await waitFor(`${2 * n} spans on /batched`, () => posts().flatMap((x) => x.spans).length >= 2 * n);
    const spans = posts().flatMap((x) => x.spans);
    assert.equal(spans.filter((s) => s.name === 'kong').length, n);
    assert.equal(spans.filter((s) => s.name === 'kong.balancer').length, n);
    for (const t of traces) {
      const b = spans.find((s) => s.traceId === t.traceId && s.name === 'kong.balancer');
      assert.equal(b?.spanId, t.spanId);
    }
    for (const p of posts()) assert.ok(p.spans.length <= 5, `a post of ${p.spans.length} spans`);
  });
});
