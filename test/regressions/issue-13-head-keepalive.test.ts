// Found while hardening the suite (issue 13): on uWS 20.30, `endWithoutBody(length)` left a HEAD
// response unfinished, so the keep-alive connection answered nothing after it. A HEAD answer
// (the gateway's own and a proxied one with Content-Length) must leave the connection usable
// and report the length a GET would have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startGateway } from '../helpers/start-gateway';
import { startEchoServer } from '../helpers/upstream';

/** Reads from `sock` until `data` holds `pred`'s match, or fails after 5 s. */
function readUntil(sock: Socket, buf: { data: string }, pred: (d: string) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
    };
    const onData = (c: Buffer): void => {
      buf.data += c.toString('latin1');
      if (pred(buf.data)) {
        done();
        resolve();
      }
    };
    const onClose = (): void => {
      done();
      reject(new Error(`connection closed before ${what}; got ${JSON.stringify(buf.data)}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(buf.data)}`));
    }, 5000);
    if (pred(buf.data)) {
      done();
      resolve();
      return;
    }
    sock.on('data', onData);
    sock.on('close', onClose);
  });
}

test('HEAD then GET on one keep-alive connection: both answered, HEAD reports the length', async (t) => {
  const upstream = await startEchoServer('up');
  const gw = await startGateway({
    config: { _format_version: '3.0', services: [{ name: 's', url: `http://127.0.0.1:${upstream.port}`, routes: [{ name: 'r', paths: ['/r'] }] }] },
  });
  t.after(async () => {
    await gw.stop();
    await upstream.close();
  });
  for (const path of ['/nothing', '/r/x']) {
    const sock = connect(gw.proxyPort, '127.0.0.1');
    t.after(() => sock.destroy());
    const buf = { data: '' };
    sock.write(`HEAD ${path} HTTP/1.1\r\nHost: a.test\r\n\r\n`);
    await readUntil(sock, buf, (d) => d.includes('\r\n\r\n'), `the HEAD answer for ${path}`);
    const head = buf.data;
    assert.match(head, /^HTTP\/1\.1 (404|200) /);
    const length = /\r\ncontent-length: (\d+)\r\n/i.exec(head);
    assert.ok(length && Number(length[1]) > 0, `HEAD ${path} reports a length: ${head}`);
    buf.data = '';
    sock.write(`GET ${path} HTTP/1.1\r\nHost: a.test\r\n\r\n`);
    // The GET is read by its own length: the echo upstream's body names the method, so a proxied
    // HEAD's length is the GET's plus one ("HEAD" against "GET") and whatever headers the client adds.
    let getLength = -1;
    await readUntil(sock, buf, (d) => {
      const end = d.indexOf('\r\n\r\n');
      if (end < 0) return false;
      getLength = Number(/\r\ncontent-length: (\d+)\r\n/i.exec(d.slice(0, end + 2))?.[1] ?? -1);
      return getLength >= 0 && d.length - end - 4 >= getLength;
    }, `the GET after HEAD ${path}`);
    assert.match(buf.data, /^HTTP\/1\.1 (404|200) /, 'no stray body bytes from the HEAD answer');
    if (path === '/nothing') assert.equal(getLength, Number(length[1]), 'the gateway\'s own HEAD answer reports the GET\'s length');
    else assert.ok(Math.abs(getLength - Number(length[1])) <= 16, `HEAD reported ${length[1]}, the GET sent ${getLength}`);
    sock.destroy();
  }
});
