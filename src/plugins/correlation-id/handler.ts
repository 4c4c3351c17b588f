/**
 * Kong 3.10 `kong/plugins/correlation-id/handler.lua`: a non-empty incoming id is kept, otherwise
 * one is generated and set on the upstream request; `echo_downstream` copies it to the response
 * in headerFilter, which also runs on the gateway's own answers (then, if access never ran, the
 * incoming id or a fresh one is echoed, as Kong does).
 */
import { randomUUID } from 'node:crypto';
import { KONG_COMPAT_VERSION } from '../../shared/version';
import type { PluginContext, PluginHandler } from '../types';

type Generator = (ctx: PluginContext) => string;

export interface CorrelationIdConf {
  /** As configured: the name written upstream and downstream. */
  headerName: string;
  /** Lowercased once: the name read from the request. */
  headerKey: string;
  generate: Generator;
  echoDownstream: boolean;
}

/**
 * nginx variables the `tracker` format reads, where the request context offers them. The current
 * PluginContext has none of them: until it does, the listen address reads `0.0.0.0`, the port 0,
 * and the connection serial is a per-worker sequence with one request per connection, which keeps
 * ids unique per worker and in Kong's shape.
 */
interface ConnectionFacts {
  readonly serverAddr?: string;
  readonly serverPort?: number;
  readonly connectionId?: number;
  readonly connectionRequests?: number;
}

/** Per worker process, as Kong's init_worker: one UUID and one counter shared by every instance. */
const WORKER_UUID = randomUUID();
let workerCounter = 0;
let trackerSerial = 0;

const GENERATORS: Readonly<Record<string, Generator>> = {
  uuid: () => randomUUID(),
  'uuid#counter': () => `${WORKER_UUID}#${++workerCounter}`,
  // Kong: "%s-%s-%d-%s-%s-%0.3f" of $server_addr, $server_port, worker pid, $connection,
  // $connection_requests and ngx.now().
  tracker: (ctx) => {
    const c = ctx as PluginContext & ConnectionFacts;
    const connection = c.connectionId ?? ++trackerSerial;
    return `${c.serverAddr ?? '0.0.0.0'}-${c.serverPort ?? 0}-${process.pid}-${connection}-${c.connectionRequests ?? 1}-${(Date.now() / 1000).toFixed(3)}`;
  },
};

/** The scratch key holding the id access chose, for headerFilter. */
const ID = 'correlation-id.id';

function configure(config: Record<string, unknown>): CorrelationIdConf {
  const headerName = config.header_name as string;
  return {
    headerName,
    headerKey: headerName.toLowerCase(),
    generate: GENERATORS[config.generator as string] ?? GENERATORS['uuid#counter'],
    echoDownstream: config.echo_downstream === true,
  };
}

function access(ctx: PluginContext, conf: CorrelationIdConf): void {
  let id = ctx.requestHeader(conf.headerKey);
  if (id === null || id === '') {
    id = conf.generate(ctx);
    ctx.setRequestHeader(conf.headerName, id);
  }
  if (conf.echoDownstream) ctx.shared[ID] = id;
}

function headerFilter(ctx: PluginContext, conf: CorrelationIdConf): void {
  if (!conf.echoDownstream) return;
  let id = (ctx.shared[ID] as string | undefined) ?? ctx.requestHeader(conf.headerKey);
  if (id === null || id === '') id = conf.generate(ctx);
  ctx.setResponseHeader(conf.headerName, id);
}

export const handler: PluginHandler<CorrelationIdConf> = {
  name: 'correlation-id',
  priority: 100001,
  version: KONG_COMPAT_VERSION,
  configure,
  access,
  headerFilter,
};
