// The request-size-limiting handler against a FakeContext (Kong's spec/03-plugins/12-request-size-limiting
// cases): declared lengths, units, Expect: 100-continue, chunked bodies, require_content_length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handler, type RequestSizeLimitingConf } from '../../../src/plugins/request-size-limiting/handler';
import { buildPluginEnv } from '../../../src/plugins/env';
import { FakeContext } from '../fake-context';
import { doc, load } from '../../unit/config/helpers';

const ENV = buildPluginEnv({ consumers: [], credentials: { keyauth: [], basicauth: [], jwt: [], acls: [] } });

function conf(yaml = ''): RequestSizeLimitingConf {
  const text = yaml === '' ? 'plugins:\n  - name: request-size-limiting\n' : `plugins:\n  - name: request-size-limiting\n    config:\n${yaml}`;
  return handler.configure!(load(doc(text)).snapshot.plugins[0].config, ENV);
}

/** A context that counts body reads, so a test can tell a declared length was judged unread. */
class Ctx extends FakeContext {
  reads = 0;
  override readRequestBody(limit: number): Promise<Buffer> {
    this.reads++;
    return super.readRequestBody(limit);
  }
}

/** A POST of `size` bytes, framed by Content-Length, chunked, or without a body length. */
function request(size: number, framing: 'length' | 'chunked' | 'none', headers: Record<string, string> = {}): Ctx {
  const h: Record<string, string> = { ...headers };
  if (framing === 'length') h['content-length'] = String(size);
  if (framing === 'chunked') h['transfer-encoding'] = 'chunked';
  const ctx = new Ctx({ method: 'POST', headers: h, body: Buffer.alloc(size, 0x61) });
  ctx.requestBodyLength = framing === 'chunked' ? -2 : framing === 'length' ? size : 0;
  return ctx;
}

async function run(c: RequestSizeLimitingConf, ctx: Ctx): Promise<Ctx> {
  await handler.access!(ctx, c);
  return ctx;
}

test('priority is Kong\'s 951', () => {
  assert.equal(handler.priority, 951);
});

test('a declared length over the limit: 413 before any byte is read; at the limit it goes on', async () => {
  const c = conf('      allowed_payload_size: 10\n      size_unit: bytes\n');
  const over = await run(c, request(11, 'length'));
  assert.deepEqual(over.exitRecord, { status: 413, body: 'Request size limit exceeded', headers: {}, kind: 'error' });
  assert.equal(over.reads, 0);
  const at = await run(c, request(10, 'length'));
  assert.equal(at.exited, false);
  assert.equal(at.reads, 0, 'a declared length within the limit streams on unread');
});

test('units: kilobytes are 2^10 bytes, megabytes 2^20 (the default 128 MB)', async () => {
  const kb = conf('      allowed_payload_size: 1\n      size_unit: kilobytes\n');
  assert.equal((await run(kb, request(1024, 'length'))).exited, false);
  assert.equal((await run(kb, request(1025, 'length'))).exitRecord?.status, 413);
  const mb = conf();
  const big = request(0, 'length');
  big.requestBodyLength = 128 * 1048576 + 1;
  assert.equal((await run(mb, big)).exitRecord?.status, 413);
  const fits = request(0, 'length');
  fits.requestBodyLength = 128 * 1048576;
  assert.equal((await run(mb, fits)).exited, false);
});

test('Expect: 100-continue gets 417 instead of 413', async () => {
  const c = conf('      allowed_payload_size: 10\n      size_unit: bytes\n');
  const ctx = await run(c, request(11, 'length', { expect: ' 100-Continue ' }));
  assert.deepEqual([ctx.exitRecord?.status, ctx.exitRecord?.body], [417, 'Request size limit exceeded']);
});

test('a chunked body is read up to the limit and answered 413 once it passes it', async () => {
  const c = conf('      allowed_payload_size: 10\n      size_unit: bytes\n      require_content_length: true\n');
  const over = await run(c, request(11, 'chunked'));
  assert.deepEqual([over.exitRecord?.status, over.exitRecord?.body, over.reads], [413, 'Request size limit exceeded', 1]);
  const within = await run(c, request(10, 'chunked'));
  assert.deepEqual([within.exited, within.reads], [false, 1]);
  const expect = await run(c, request(11, 'chunked', { expect: '100-continue' }));
  assert.equal(expect.exitRecord?.status, 417);
});

test('require_content_length: 411 without a Content-Length (a chunked body is read instead)', async () => {
  const c = conf('      require_content_length: true\n');
  const missing = await run(c, request(0, 'none'));
  assert.deepEqual(missing.exitRecord, { status: 411, body: 'A valid Content-Length header is required', headers: {}, kind: 'error' });
  assert.equal((await run(c, request(0, 'length'))).exited, false, 'Content-Length: 0 is a valid length');
  assert.equal((await run(conf(), request(0, 'none'))).exited, false, 'not required: a bodiless request goes on');
});
