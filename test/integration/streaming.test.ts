import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startGateway, type Gateway } from '../helpers/start-gateway';
import { PATTERN, startLargeBodyServer, type LargeBodyServer } from '../helpers/upstream';
import { sampleRss } from '../helpers/proc';

const SIZE = 256 * 1024 * 1024;
const RSS_LIMIT_KB = 150 * 1024;
/** Bytes allowed between producer and consumer while the consumer stalls: socket buffers, not the body. */
const IN_FLIGHT_LIMIT = 64 * 1024 * 1024;
const STALL_AT = 32 * 1024 * 1024;
const STALL_MS = 700;

describe('streaming large bodies', { timeout: 120000 }, () => {
  let big: LargeBodyServer;
  let gw: Gateway;
  let workerPids: number[];

  before(async () => {
    big = await startLargeBodyServer();
    gw = await startGateway({
      config: {
        _format_version: '3.0',
        services: [{ name: 'big', url: `http://127.0.0.1:${big.port}`, routes: [{ name: 'big', paths: ['/big'] }] }],
      },
    });
    workerPids = (await gw.status()).workers.map((w) => w.pid);
  });

  after(async () => {
    await gw?.stop();
    await big?.close();
  });

  function peakReport(peak: Map<number, number>): string {
    return [...peak].map(([pid, kb]) => `${pid}: ${Math.round(kb / 1024)} MiB`).join(', ');
  }

  it('streams a 256 MiB download with backpressure and bounded worker memory', async (t) => {
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
            setTimeout(() => {
              maxGap = big.stats.downloadSent - received;
              res.resume();
            }, STALL_MS);
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
    assert.ok(maxGap < IN_FLIGHT_LIMIT, `upstream ran ${Math.round(maxGap / 1048576)} MiB ahead of a stalled client`);
    assert.ok([...peak.values()].every((kb) => kb < RSS_LIMIT_KB), `worker peak RSS ${peakReport(peak)}`);
  });

  it('streams a 256 MiB upload with backpressure and bounded worker memory', async (t) => {
    const rss = sampleRss(workerPids);
    let written = 0;
    let maxGap = 0;
    const gapProbe = setInterval(() => {
      maxGap = Math.max(maxGap, written - big.stats.uploadReceived);
    }, 50);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${gw.proxyUrl}/big/upload?pause_at=${STALL_AT}&pause_ms=${STALL_MS}`,
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
    clearInterval(gapProbe);
    const peak = rss.stop();
    t.diagnostic(`stalled-upstream gap ${Math.round(maxGap / 1048576)} MiB; worker peak RSS ${peakReport(peak)}`);
    assert.equal(status, 200, body);
    assert.deepEqual(JSON.parse(body), { received: SIZE, pattern_ok: true });
    assert.ok(maxGap < IN_FLIGHT_LIMIT, `client ran ${Math.round(maxGap / 1048576)} MiB ahead of a stalled upstream`);
    assert.ok([...peak.values()].every((kb) => kb < RSS_LIMIT_KB), `worker peak RSS ${peakReport(peak)}`);
  });
});
