import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negotiate, errorBody, MIME, statusLine } from '../../../src/worker/server/respond';

test('Accept negotiation follows Kong: highest q among known types, else the fallback', () => {
  assert.equal(negotiate('', MIME.json), MIME.json);
  assert.equal(negotiate('', MIME.plain), MIME.plain);
  assert.equal(negotiate('application/json', MIME.plain), MIME.json);
  assert.equal(negotiate('text/html;q=0.5, application/xml', MIME.json), MIME.xml);
  assert.equal(negotiate('text/html;q=0.9, application/json;q=0.4', MIME.plain), MIME.html);
  assert.equal(negotiate('image/png', MIME.plain), MIME.plain);
  assert.equal(negotiate('*/*', MIME.plain), MIME.json);
});

test('error bodies are byte-for-byte Kong templates', () => {
  assert.equal(errorBody(MIME.json, 'no Route matched with those values', 'abc'),
    '{\n  "message":"no Route matched with those values",\n  "request_id":"abc"\n}');
  assert.equal(errorBody(MIME.plain, 'The upstream server is timing out', 'abc'),
    'The upstream server is timing out\nrequest_id: abc\n');
  assert.match(errorBody(MIME.html, 'Bad <request>', 'r1'), /<p>Bad &lt;request&gt;\.<\/p>\n    <p>request_id: r1<\/p>/);
  assert.match(errorBody(MIME.xml, 'x', 'r1'), /<message>x<\/message>\n  <requestid>r1<\/requestid>/);
  assert.equal(errorBody(MIME.json, 'say "hi"', 'r'), '{\n  "message":"say \\"hi\\"",\n  "request_id":"r"\n}');
});

test('status lines carry the reason phrase', () => {
  assert.equal(statusLine(502), '502 Bad Gateway');
  assert.equal(statusLine(426), '426 Upgrade Required');
  assert.equal(statusLine(599), '599 Unknown');
});
