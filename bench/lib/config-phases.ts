/**
 * The config pipeline's phases timed one by one, in this process, on the same code the gateway
 * runs: parse → validate → compile (snapshot) → msgpackr pack/unpack (the IPC payload a worker
 * receives) → the worker's Runtime build (router, balancers, plugin env, chains).
 */
import { performance } from 'node:perf_hooks';
import { parseConfigText } from '../../src/primary/config/load';
import { Problems } from '../../src/primary/config/problems';
import { resolveSettingsInto } from '../../src/primary/config/settings';
import { validateDeclarative } from '../../src/primary/config/validate';
import { compileSnapshot } from '../../src/primary/config/compile';
import { flattenModel } from '../../src/primary/config/flatten';
import { decodeMessage, encodeMessage, type PrimaryMessage } from '../../src/shared/protocol';
import { Router } from '../../src/worker/router';
import { Runtime } from '../../src/worker/runtime';
import { UpstreamPools } from '../../src/worker/proxy/upstream-pool';
import { buildPluginEnv } from '../../src/plugins/env';

export interface PhaseTimes {
  parseMs: number;
  validateMs: number;
  entitiesMs: number;
  compileMs: number;
  packMs: number;
  payloadBytes: number;
  unpackMs: number;
  routerMs: number;
  pluginEnvMs: number;
  runtimeMs: number;
}

export function timePhases(text: string): PhaseTimes {
  let t = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const d = now - t;
    t = now;
    return d;
  };
  const parsed = parseConfigText(text, 'scale.yml');
  const parseMs = lap();
  const pr = new Problems();
  pr.quotedScalar = (path) => parsed.isQuotedScalar(path);
  const model = validateDeclarative(parsed.value, pr);
  const settings = resolveSettingsInto(undefined, {}, pr);
  if (model === undefined || pr.count > 0) throw new Error(`invalid config: ${JSON.stringify(pr.errors.slice(0, 3))}`);
  const validateMs = lap();
  flattenModel(model);
  const entitiesMs = lap();
  const snapshot = compileSnapshot(model, settings, 1);
  const compileMs = lap();
  const payload = encodeMessage({ kind: 'config:apply', snapshot });
  const packMs = lap();
  const msg = decodeMessage<PrimaryMessage>(payload);
  const unpackMs = lap();
  if (msg?.kind !== 'config:apply') throw new Error('payload did not decode');
  new Router(msg.snapshot.routes, msg.snapshot.services);
  const routerMs = lap();
  buildPluginEnv(msg.snapshot);
  const pluginEnvMs = lap();
  const pools = new UpstreamPools();
  new Runtime(msg.snapshot, pools);
  const runtimeMs = lap();
  void pools.closeAll();
  return { parseMs, validateMs, entitiesMs, compileMs, packMs, payloadBytes: payload.length, unpackMs, routerMs, pluginEnvMs, runtimeMs };
}
