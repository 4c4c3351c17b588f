/**
 * The phase loops over a route's chain (chain.ts). Access handlers may return a Promise: the loop
 * then resumes after it settles, but only if the request was neither aborted nor answered
 * meanwhile. A throw or rejection costs that request a 500 (the host decides how), never the
 * worker. Header and body filters run only for the plugins whose access phase was reached, as
 * Kong's collecting iterator does, so a CORS header still lands on a key-auth 401 while a
 * plugin after the short-circuit stays silent.
 */
import type { LogEntry, LogFacts, PluginContext } from '../../plugins/types';
import { log } from '../../lib/log';
import { NO_CONF, confFor, type PluginChain } from './chain';

export interface PipelineHost extends PluginContext {
  readonly chain: PluginChain;
  /** Per chain entry: the conf its access phase saw, or NO_CONF (null until access starts). */
  pluginConfs: unknown[] | null;
  /** The client went away: nothing may be written any more. */
  readonly aborted: boolean;
  /** Access finished without an exit: continue to the upstream. */
  accessDone(): void;
  /** A plugin threw or rejected in access: answer 500. */
  pluginFailed(plugin: string, err: unknown): void;
}

export function runAccess(host: PipelineHost): void {
  const n = host.chain.entries.length;
  const confs = new Array<unknown>(n);
  for (let i = 0; i < n; i++) confs[i] = NO_CONF;
  host.pluginConfs = confs;
  continueAccess(host, 0);
}

function continueAccess(host: PipelineHost, from: number): void {
  const entries = host.chain.entries;
  const confs = host.pluginConfs as unknown[];
  for (let i = from; i < entries.length; i++) {
    const entry = entries[i];
    const conf = confFor(entry, host.consumer === null ? null : host.consumer.id);
    if (conf === NO_CONF) continue;
    confs[i] = conf;
    const access = entry.handler.access;
    if (access === undefined) continue;
    let pending: void | Promise<void>;
    try {
      pending = access.call(entry.handler, host, conf);
    } catch (err) {
      host.pluginFailed(entry.plugin, err);
      return;
    }
    if (host.exited) return;
    if (pending !== undefined) {
      pending.then(
        () => {
          if (!host.aborted && !host.exited) continueAccess(host, i + 1);
        },
        (err: unknown) => {
          if (!host.aborted && !host.exited) host.pluginFailed(entry.plugin, err);
        },
      );
      return;
    }
  }
  host.accessDone();
}

/** Response head filters, in PRIORITY order. A throw is logged; the response goes on. */
export function runHeaderFilter(host: PipelineHost): void {
  const confs = host.pluginConfs;
  if (confs === null) return;
  const entries = host.chain.entries;
  for (let i = 0; i < entries.length; i++) {
    const filter = entries[i].handler.headerFilter;
    if (filter === undefined || confs[i] === NO_CONF) continue;
    try {
      filter.call(entries[i].handler, host, confs[i]);
    } catch (err) {
      log('error', 'plugin header_filter failed', { plugin: entries[i].plugin, requestId: host.requestId, err: (err as Error).stack });
    }
  }
}

/**
 * True when a plugin whose access phase was reached has `phase` (its filter will then run for
 * this request); false before access ran.
 */
export function reachedPhase(host: PipelineHost, phase: 'headerFilter' | 'bodyFilter'): boolean {
  const confs = host.pluginConfs;
  if (confs === null || !(phase === 'headerFilter' ? host.chain.hasHeaderFilter : host.chain.hasBodyFilter)) return false;
  const entries = host.chain.entries;
  for (let i = 0; i < entries.length; i++) if (entries[i].handler[phase] !== undefined && confs[i] !== NO_CONF) return true;
  return false;
}

/** One response chunk through every body filter; returns what goes to the client. */
export function runBodyFilter(host: PipelineHost, chunk: Buffer, last: boolean): Buffer {
  const confs = host.pluginConfs as unknown[];
  const entries = host.chain.entries;
  let out = chunk;
  for (let i = 0; i < entries.length; i++) {
    const filter = entries[i].handler.bodyFilter;
    if (filter === undefined || confs[i] === NO_CONF) continue;
    try {
      out = filter.call(entries[i].handler, host, confs[i], out, last);
    } catch (err) {
      log('error', 'plugin body_filter failed', { plugin: entries[i].plugin, requestId: host.requestId, err: (err as Error).stack });
    }
  }
  return out;
}

/** Log handlers, after the response: deferred to a macrotask so they never delay a write. */
export function scheduleLog(host: PipelineHost, entry: LogEntry): void {
  const confs = host.pluginConfs;
  if (confs === null || !host.chain.hasLog) return;
  setImmediate(runLog, host.chain, confs, entry);
}

function runLog(chain: PluginChain, confs: unknown[], entry: LogEntry): void {
  const entries = chain.entries;
  for (let i = 0; i < entries.length; i++) {
    const handler = entries[i].handler;
    if (handler.log === undefined || confs[i] === NO_CONF) continue;
    try {
      handler.log(entry, confs[i]);
    } catch (err) {
      log('error', 'plugin log failed', { plugin: entries[i].plugin, err: (err as Error).stack });
    }
  }
}

/**
 * Measure handlers, synchronously after the response (see PluginHandler.measure). Unlike the
 * filters they also run for plugins after a short-circuit: Kong's prometheus counts the 401 of
 * a key-auth that ran before it, so every request of the route is counted once.
 */
export function runMeasure(host: PipelineHost, facts: LogFacts): void {
  const confs = host.pluginConfs;
  const entries = host.chain.entries;
  const consumer = host.consumer === null ? null : host.consumer.id;
  for (let i = 0; i < entries.length; i++) {
    const handler = entries[i].handler;
    if (handler.measure === undefined) continue;
    const conf = confs !== null && confs[i] !== NO_CONF ? confs[i] : confFor(entries[i], consumer);
    if (conf === NO_CONF) continue;
    try {
      handler.measure(facts, conf, host);
    } catch (err) {
      log('error', 'plugin measure failed', { plugin: entries[i].plugin, err: (err as Error).stack });
    }
  }
}
