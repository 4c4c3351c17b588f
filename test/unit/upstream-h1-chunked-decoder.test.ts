import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedDecoder } from '../../src/worker/upstream-h1/chunked-decoder';
import { BAD } from '../../src/worker/upstream-h1/errors';

interface Result {
  body: string;
  done: boolean;
  error: string | null;
  /** Bytes of the input the decoder consumed. */
  used: number;
}

/** Feeds `parts` in turn, as separate socket reads, and collects the body pieces. */
function decode(parts: string[]): Result {
  const d = new ChunkedDecoder();
  let body = '';
  let used = 0;
  for (const part of parts) {
    const buf = Buffer.from(part, 'latin1');
    let pos = 0;
    while (pos < buf.length && !d.done && d.error === null) {
      pos = d.step(buf, pos);
      if (d.dataStart >= 0) body += buf.toString('latin1', d.dataStart, d.dataEnd);
    }
    used += pos;
    if (d.done || d.error !== null) break;
  }
  return { body, done: d.done, error: d.error, used };
}

test('chunks, extensions and trailers decode to the body, and the decoder stops at the end', () => {
  const wire = '5\r\nhello\r\n6;name=value\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n';
  const r = decode([`${wire}HTTP/1.1 200 OK`]);
  assert.deepEqual(r, { body: 'hello world0123456789', done: true, error: null, used: wire.length });
  assert.equal(decode(['0\r\n\r\n']).done, true);
  assert.equal(decode(['5 ;x\r\nhello\r\n0\r\n\r\n']).body, 'hello');
});

test('split at every byte boundary, the same body comes out', () => {
  const wire = '3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n';
  for (let i = 1; i < wire.length; i++) {
    const r = decode([wire.slice(0, i), wire.slice(i)]);
    assert.equal(r.body, 'abc0123456789abcdef', `split at ${i}`);
    assert.equal(r.done, true, `split at ${i}`);
  }
  const bytes = decode(wire.split(''));
  assert.equal(bytes.body, 'abc0123456789abcdef');
  assert.equal(bytes.done, true);
});

test('each step hands over at most one piece, so a paused reader resumes where it stopped', () => {
  const d = new ChunkedDecoder();
  const buf = Buffer.from('2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n', 'latin1');
  let pos = d.step(buf, 0);
  assert.equal(buf.toString('latin1', d.dataStart, d.dataEnd), 'ab');
  pos = d.step(buf, pos);
  assert.equal(buf.toString('latin1', d.dataStart, d.dataEnd), 'cd');
  pos = d.step(buf, pos);
  assert.equal(d.dataStart, -1);
  assert.equal(d.done, true);
  assert.equal(pos, buf.length);
});

test('bad sizes, missing CRLF after a chunk, bare LF, control bytes in trailers are errors', () => {
  const cases: Array<[string, string]> = [
    ['x\r\n', BAD.CHUNK_SIZE],
    ['\r\n', BAD.CHUNK_SIZE],
    ['-5\r\n', BAD.CHUNK_SIZE],
    ['0x5\r\nhello\r\n', BAD.CHUNK_SIZE],
    ['5\nhello\r\n', BAD.CHUNK_SIZE],
    ['5\rhello\r\n', BAD.CHUNK_SIZE],
    ['5 5\r\nhello\r\n', BAD.CHUNK_SIZE],
    ['fffffffffffffff\r\n', BAD.CHUNK_SIZE],
    [`5;${'e'.repeat(5000)}\r\n`, BAD.CHUNK_SIZE],
    ['5;a\x00\r\n', BAD.CHUNK_SIZE],
    ['5\r\nhelloX\r\n', BAD.CHUNK_END],
    ['5\r\nhello\n0\r\n\r\n', BAD.CHUNK_END],
    ['0\r\nX: a\x01b\r\n\r\n', BAD.TRAILERS],
    ['0\r\n folded\r\n\r\n', BAD.TRAILERS],
    ['0\r\n\n', BAD.TRAILERS],
  ];
  for (const [wire, reason] of cases) {
    const r = decode([wire]);
    assert.equal(r.error, reason, JSON.stringify(wire));
    assert.equal(r.done, false);
  }
});

test('a body cut short is neither done nor an error (the connection end decides)', () => {
  const r = decode(['5\r\nhel']);
  assert.deepEqual([r.body, r.done, r.error], ['hel', false, null]);
});
