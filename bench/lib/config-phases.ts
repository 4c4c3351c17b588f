/**
 * The config pipeline's phases timed one by one, in this process, on the same code the gateway
 * runs: parse → validate → compile (snapshot) → entity store → the compile thread's hand-off to
 * the primary (msgpackr, moved) → msgpackr pack/unpack (the IPC payload a worker
 * receives) → the worker's Runtime build (router, balancers, plugin env, chains).
 */
import { performance } from 'node:perf_hooks';
import { parseConfigText } from '../../src/primary/config/load';
import { Problems } from '../../src/primary/config/problems';
import { resolveSettingsInto } from '../../src/primary/config/settings';
import { validateDeclarative } from '../../src/primary/config/validate';
import { compileSnapshot } from '../../src/primary/config/compile';
import { flattenModel } from '../../src/primary/config/flatten';
import { packLoaded, unpackLoaded } from '../../src/primary/config/compile-task';
import { decodeMessage, encodeApply, type PrimaryMessage } from '../../src/shared/protocol';
import { Router } from '../../src/worker/router';
import { Runtime } from '../../src/worker/runtime';
import { UpstreamPools } from '../../src/worker/proxy/upstream-pool';
import { buildPluginEnv } from '../../src/plugins/env';

export const PHASES = ['parse', 'validate', 'compile', 'entities', 'handoffPack', 'handoffUnpack', 'pack', 'packWhole', 'unpack', 'router', 'pluginEnv', 'runtime'] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseTimes {
  /** Wall-clock ms per phase. */
  wall: Record<Phase, number>;
  /** CPU ms (user + system, this process) per phase: steadier than wall time on a busy machine. */
  cpu: Record<Phase, number>;
  payloadBytes: number;
}

/** What each phase is, for the printed table. */
export const PHASE_LABEL: Record<Phase, string> = {
  parse: 'parse (YAML → JS)',
  validate: 'validate (schema, references, settings)',
  entities: 'entity store (flatten)',
  handoffPack: 'compile thread → primary: msgpackr pack (thread)',
  handoffUnpack: 'compile thread → primary: msgpackr unpack (primary; bulk, entities when used)',
  compile: 'compile (snapshot, config hash)',
  pack: 'config:apply pack (primary, reload: the thread\'s bulk bytes forwarded)',
  packWhole: 'config:apply pack (primary, start: packed whole)',
  unpack: 'msgpackr unpack (worker)',
  router: 'router build (worker)',
  pluginEnv: 'consumer/credential index (worker)',
  runtime: 'whole Runtime build (worker, router included)',
};

export function timePhases(text: string): PhaseTimes {
  const wall = {} as Record<Phase, number>;
  const cpu = {} as Record<Phase, number>;
  let t = performance.now();
  let c = process.cpuUsage();
  let i = 0;
  const lap = (): void => {
    const now = performance.now();
    const used = process.cpuUsage(c);
    wall[PHASES[i]] = now - t;
    cpu[PHASES[i]] = (used.user + used.system) / 1000;
    i++;
    t = now;
    c = process.cpuUsage();
  };
  const parsed = parseConfigText(text, 'scale.yml');
  lap();
  const pr = new Problems();
  pr.quotedScalar = (path) => parsed.isQuotedScalar(path);
  const model = validateDeclarative(parsed.value, pr);
  const settings = resolveSettingsInto(undefined, {}, pr);
  if (model === undefined || pr.count > 0) throw new Error(`invalid config: ${JSON.stringify(pr.errors.slice(0, 3))}`);
  lap();
  // In the gateway's order (load-config.ts): the entity store takes the model over once compiled.
  const snapshot = compileSnapshot(model, settings, 1);
  lap();
  const entities = flattenModel(model);
  lap();
  // What a large file's compile thread hands the primary (compile-task.ts), moved, not copied.
  const handoff = packLoaded({ snapshot, warnings: [], file: 'scale.yml', entities, settingsBlock: undefined });
  lap();
  const loaded = unpackLoaded(handoff);
  lap();
  // A reload's message: the bulk goes as the thread packed it (shared/snapshot-bulk.ts).
  encodeApply(loaded.snapshot);
  lap();
  // A start's: compiled on the primary's thread, packed whole.
  const payload = encodeApply(snapshot);
  lap();
  const msg = decodeMessage<PrimaryMessage>(payload);
  lap();
  if (msg?.kind !== 'config:apply') throw new Error('payload did not decode');
  new Router(msg.snapshot.routes, msg.snapshot.services);
  lap();
  buildPluginEnv(msg.snapshot);
  lap();
  const pools = new UpstreamPools();
  new Runtime(msg.snapshot, pools);
  lap();
  void pools.closeAll();
  return { wall, cpu, payloadBytes: payload.length };
}
