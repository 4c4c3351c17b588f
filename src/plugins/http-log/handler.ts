/**
 * Kong's http-log: each request's `kong.log.serialize()` goes to a collector over HTTP through a
 * bounded, batching queue (lib/batch-queue.ts), one per distinct configuration per worker. A
 * batch of one is sent as a JSON object, a larger one as a JSON array, as Kong does. Nothing
 * here ever waits in the request: `log` only appends to the queue.
 */
import { undici } from '../../lib/optional-packages';
import type { PluginHandler } from '../types';
import { BatchQueue } from '../lib/batch-queue';
import type { QueueConf } from '../lib/queue-schema';

interface HttpLogConf {
  queue: BatchQueue;
}

const queues = new Map<string, BatchQueue>();

function sender(config: Record<string, unknown>, single: boolean): (entries: string[]) => Promise<void> {
  const url = new URL(config.http_endpoint as string);
  const headers: Record<string, string> = { ...((config.headers as Record<string, string> | null) ?? {}) };
  if (url.username !== '' || url.password !== '') {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = url.password = '';
  }
  headers['content-type'] = config.content_type as string;
  const timeout = config.timeout as number;
  const { Agent, request } = undici();
  const dispatcher = new Agent({ keepAliveTimeout: config.keepalive as number, connectTimeout: timeout });
  const method = config.method as 'POST' | 'PUT' | 'PATCH';
  const target = url.toString();
  return async (entries) => {
    const body = single && entries.length === 1 ? entries[0] : `[${entries.join(',')}]`;
    const res = await request(target, { method, headers, body, dispatcher, headersTimeout: timeout, bodyTimeout: timeout });
    const text = await res.body.text();
    if (res.statusCode >= 400) throw new Error(`request to ${url.host} returned status code ${res.statusCode} and body ${text.slice(0, 200)}`);
  };
}

export const handler: PluginHandler<HttpLogConf> = {
  name: 'http-log',
  priority: 12,
  version: '3.10.0',
  configure(config) {
    // Same configuration, same queue: a reload that changes nothing keeps its queued entries.
    const key = JSON.stringify(config);
    let queue = queues.get(key);
    if (queue === undefined) {
      const q = config.queue as unknown as QueueConf;
      queue = new BatchQueue(`http-log ${new URL(config.http_endpoint as string).host}`, q, sender(config, q.max_batch_size === 1));
      queues.set(key, queue);
    }
    return { queue };
  },
  log(entry, conf) {
    conf.queue.add(JSON.stringify(entry));
  },
};
