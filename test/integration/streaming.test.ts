import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { listenLocal } from '../helpers/ports';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { PATTERN, startLargeBodyServer, type LargeBodyServer } from '../helpers/upstream';
import { sampleRss } from '../helpers/proc';
import { delay } from '../helpers/wait';

const SIZE = 256 * 1024 * 1024;
const RSS_LIMIT_KB = 150 * 1024;
/** Bytes allowed between producer and consumer while the consumer stalls: socket buffers, not the body. */
const IN_FLIGHT_LIMIT = 64 * 1024 * 1024;
const STALL_AT = 32 * 1024 * 1024;
/** The producer counts as blocked once its byte count has not moved for this long. */
const STILL_MS = 500;
/** A producer that never blocks writes the whole body within this, even on a loaded machine. */
const BLOCK_TIMEOUT_MS = 60000;

/**
 * Resolves with the producer's byte count once it has stopped growing for STILL_MS: with
 * backpressure the producer blocks with only socket buffers in flight; without it, it stops only
 * when the whole body is written, and the gap then shows it. Never a fixed stall: a slow machine
 * takes longer to fill the buffers, not a different path.
 */
async function whenBlocked(what: string, count: () => number): Promise<number> {
  const deadline = Date.now() + BLOCK_TIMEOUT_MS;
  let last = count();
  let stillSince = Date.now();
  for (;;) {
    await delay(50);
    const now = count();
    if (now !== last) {
      last = now;
      stillSince = Date.now();
    } else if (Date.now() - stillSince >= STILL_MS) return now;
    if (Date.now() > deadline) throw new Error(`${what} never stopped writing while its peer stalled (${Math.round(now / 1048576)} MiB)`);
  }
}

/** An upload sink that stops reading at STALL_AT until the test resumes it. */
interface UploadSink {
  port: number;
  received(): number;
  /** Resolves once the sink has stopped reading. */
  stalled: Promise<void>;
  resume(): void;
  close(): Promise<void>;
}

async function startUploadSink(): Promise<UploadSink> {
  let received = 0;
  let resume = (): void => undefined;
  let onStalled = (): void => undefined;
  const stalled = new Promise<void>((r) => (onStalled = r));
  const server = createServer((req, res) => {
    let patternOk = true;
    let paused = false;
    req.on('data', (c: Buffer) => {
      if (c.length > 0 && c[0] !== (received & 0xff)) patternOk = false;
      received += c.length;
      if (!paused && received >= STALL_AT) {
        paused = true;
        req.pause();
        resume = () => req.resume();
        onStalled();
      }
    });
    req.on('end', () => {
      const body = JSON.stringify({ received, pattern_ok: patternOk });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  const port = await listenLocal(server);
  return {
    port,
    received: () => received,
    stalled,
    resume: () => resume(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('streaming large bodies', { timeout: 120000 }, () => {
  let big: LargeBodyServer;
  let sink: UploadSink;
  let gw: Gateway;
  let workerPids: number[];

  before(async () => {
    [big, sink] = await Promise.all([startLargeBodyServer(), startUploadSink()]);
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [
          { name: 'big', url: `http://127.0.0.1:${big.port}`, routes: [{ name: 'big', paths: ['/big'] }] },
          { name: 'sink', url: `http://127.0.0.1:${sink.port}`, routes: [{ name: 'sink', paths: ['/sink'] }] },
        ],
      },
    });
    workerPids = (await gw.status()).workers.map((w) => w.pid);
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([big?.close(), sink?.close()]);
  });

  function peakReport(peak: Map<number, number>): string {
    return [...peak].map(([pid, kb]) => `${pid}: ${Math.round(kb / 1024)} MiB`).join(', ');
  }

  it('streams a 256 MiB download with backpressure and bounded worker memory', { timeout: 120000 }, async (t) => {
    const rss = sampleRss(workerPids);
    let maxGap = 0;
    const { status, received, patternOk } = await new Promise<{ status: number; received: number; patternOk: boolean }>((resolve, reject) => {
      const req = httpRequest(`${gw.proxyUrl}/big/download?bytes=${SIZE}`, { agent: false }, (res) => {
        let received = 0;
        let patternOk = true;
        let stalled = false;
        res.on('data', (c: Buffer) => {
          if (c[0] !== (received & 0xff)) patternOk = false;
          received += c.length;
          if (!stalled && received >= STALL_AT) {
            // Stop reading: a gateway honouring backpressure stops pulling from the upstream too.
            stalled = true;
            res.pause();
            whenBlocked('the upstream', () => big.stats.downloadSent).then((sent) => {
              maxGap = sent - received;
              res.resume();
            }, (e: Error) => req.destroy(e));
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, received, patternOk }));
        res.on('error', reject);
      });
      req.setTimeout(90000, () => req.destroy(new Error('download timed out')));
      req.on('error', reject);
      req.end();
    });
    const peak = rss.stop();
    t.diagnostic(`stalled-client gap ${Math.round(maxGap / 1048576)} MiB; worker peak RSS ${peakReport(peak)}`);
    assert.equal(status, 200);
    assert.equal(received, SIZE);
    assert.ok(patternOk, 'body bytes arrived out of order or altered');
    assert.ok(maxGap > 0, 'the gap was measured while the client stalled');
    assert.ok(maxGap < IN_FLIGHT_LIMIT, `upstream ran ${Math.round(maxGap / 1048576)} MiB ahead of a stalled client`);
    assert.ok([...peak.values()].every((kb) => kb < RSS_LIMIT_KB), `worker peak RSS ${peakReport(peak)}`);
  });

  it('streams a 256 MiB upload with backpressure and bounded worker memory', { timeout: 120000 }, async (t) => {
    const rss = sampleRss(workerPids);
    let written = 0;
    let maxGap = 0;
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${gw.proxyUrl}/sink/upload`,
        { method: 'POST', agent: false, headers: { 'content-length': SIZE, 'content-type': 'application/octet-stream' } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on('error', reject);
        },
      );
      req.setTimeout(90000, () => req.destroy(new Error('upload timed out')));
      req.on('error', reject);
      // The upstream stops reading at STALL_AT: a gateway honouring backpressure stops taking the
      // client's bytes too, so the client's writes block with only buffers in flight.
      sink.stalled
        .then(() => whenBlocked('the client', () => written))
        .then((sent) => {
          maxGap = sent - sink.received();
          sink.resume();
        }, (e: Error) => req.destroy(e));
      const pump = (): void => {
        while (written < SIZE) {
          const n = Math.min(PATTERN.length, SIZE - written);
          written += n;
          if (!req.write(n === PATTERN.length ? PATTERN : PATTERN.subarray(0, n))) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    const peak = rss.stop();
    t.diagnostic(`stalled-upstream gap ${Math.round(maxGap / 1048576)} MiB; worker peak RSS ${peakReport(peak)}`);
    assert.equal(status, 200, body);
    assert.deepEqual(JSON.parse(body), { received: SIZE, pattern_ok: true });
    assert.ok(maxGap > 0, 'the gap was measured while the upstream stalled');
    assert.ok(maxGap < IN_FLIGHT_LIMIT, `client ran ${Math.round(maxGap / 1048576)} MiB ahead of a stalled upstream`);
    assert.ok([...peak.values()].every((kb) => kb < RSS_LIMIT_KB), `worker peak RSS ${peakReport(peak)}`);
  });
});
