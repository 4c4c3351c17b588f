/**
 * `circuit-breaker` (Hyperway's own; see schema.ts): access refuses requests while the breaker is
 * OPEN (or HALF_OPEN with every trial out) with 503 and seed 3's body, without touching the
 * upstream; the measure phase (synchronous, right after the response) reports what the upstream
 * did. The state lives in shared memory (shared/breaker-table.ts), so all workers see one breaker.
 *
 * What counts: a request this plugin let through whose response came from the service with a
 * status in `failure_statuses` is a failure, any other status a success; the gateway's own
 * 502/503 after a try (refused, reset, DNS) and 504 (timeout) are failures when
 * `count_connect_errors` / `count_timeouts` say so, and no outcome otherwise. Requests that never
 * reached an upstream (refused here, answered by another plugin, client gone first) count for
 * nothing. Only a trial's success matters (it closes); in CLOSED only failures are counted.
 */
import type { LogFacts, PluginContext, PluginHandler, PluginScope } from '../types';
import { BREAKER, BUSY, NO_ROOM, OUTCOME, PASS, REFUSE_OPEN, breakerTable, type BreakerTable, type Outcome } from '../../shared/breaker-table';
import { log } from '../../lib/log';

/** Where a trial's gen rides from access to measure (PluginContext.shared). */
const TRIAL = 'circuit-breaker.trial';
/** A half-open round whose trials are all out this long (and at least reset_timeout) starts again. */
const STUCK_MS = 60_000;
const FULL_LOG_MS = 10_000;
let lastFullLog = 0;

/** The time source; tests replace `now` to drive the state machine. */
export const clock = { now: Date.now };

const JSON_TYPE: Readonly<Record<string, string>> = Object.freeze({ 'Content-Type': 'application/json; charset=utf-8' });
export const OPEN_BODY = JSON.stringify({ message: 'Service temporarily unavailable', circuit_state: 'OPEN' });
export const HALF_OPEN_BODY = JSON.stringify({ message: 'Service temporarily unavailable', circuit_state: 'HALF_OPEN' });

export interface CircuitBreakerConf {
  pluginId: string;
  /** `<plugin id>:`, the prefix of every breaker key of this instance. */
  keyPrefix: string;
  threshold: number;
  windowMs: number;
  resetMs: number;
  trials: number;
  stuckMs: number;
  /** Index = status: 1 when the service answering it counts as a failure. */
  failureStatus: Uint8Array;
  countConnect: boolean;
  countTimeouts: boolean;
  /** Service id → slot word offset (NO_ROOM cached too), resolved once per snapshot per worker. */
  slots: Map<string, number>;
}

/** The breaker of (instance, service) in `t`, or < 0 (not enforced for this request). */
function slotOf(t: BreakerTable, conf: CircuitBreakerConf, serviceId: string): number {
  const known = conf.slots.get(serviceId);
  if (known !== undefined) return known;
  const at = t.lookup(conf.keyPrefix + serviceId);
  if (at === BUSY) return at;
  conf.slots.set(serviceId, at);
  if (at === NO_ROOM) noRoom(t);
  return at;
}

function noRoom(t: BreakerTable): void {
  const now = Date.now();
  if (now - lastFullLog < FULL_LOG_MS) return;
  lastFullLog = now;
  log('warn', 'circuit-breaker: the shared breaker table is full; new breakers are not enforced (raise hyperway.circuit_breaker_table_size)', {
    capacity: t.capacity,
    misses_total: t.fullMisses(),
  });
}

function transition(level: 'warn' | 'notice', msg: string, conf: CircuitBreakerConf, service: string, status: number): void {
  log(level, msg, { plugin_id: conf.pluginId, service_id: service, status, reset_timeout_ms: conf.resetMs });
}

function outcomeOf(facts: LogFacts, conf: CircuitBreakerConf): Outcome {
  const status = facts.status;
  if (facts.fromUpstream) return conf.failureStatus[status] === 1 ? OUTCOME.FAILURE : OUTCOME.SUCCESS;
  if (facts.upstreamTried !== true) return OUTCOME.NONE;
  if (status === 504) return conf.countTimeouts ? OUTCOME.FAILURE : OUTCOME.NONE;
  if (status === 502 || status === 503) return conf.countConnect ? OUTCOME.FAILURE : OUTCOME.NONE;
  return OUTCOME.NONE; // the client went away before an answer
}

export const handler: PluginHandler<CircuitBreakerConf> = {
  name: 'circuit-breaker',
  // After authentication, acl and rate limiting (whose refusals never reach the upstream), before
  // the transformers: a refused request costs no transformation.
  priority: 850,
  version: '1.0.0',

  configure(config, _env, scope?: PluginScope): CircuitBreakerConf {
    const failureStatus = new Uint8Array(600);
    for (const s of (config.failure_statuses as number[] | null) ?? []) failureStatus[s] = 1;
    const resetMs = Math.round((config.reset_timeout as number) * 1000);
    const pluginId = scope?.id ?? 'global';
    return {
      pluginId,
      keyPrefix: `${pluginId}:`,
      threshold: config.failure_threshold as number,
      windowMs: Math.round((config.window as number) * 1000),
      resetMs,
      trials: config.half_open_requests as number,
      stuckMs: Math.max(STUCK_MS, resetMs),
      failureStatus,
      countConnect: config.count_connect_errors !== false,
      countTimeouts: config.count_timeouts !== false,
      slots: new Map(),
    };
  },

  access(ctx: PluginContext, conf: CircuitBreakerConf): void {
    const t = breakerTable();
    const service = ctx.serviceId;
    if (t === null || service === null) return;
    const at = slotOf(t, conf, service);
    if (at < 0) return;
    const v = t.admit(at, clock.now(), conf.resetMs, conf.trials, conf.stuckMs);
    if (v === PASS) return;
    if (v >= 0) {
      ctx.shared[TRIAL] = v;
      return;
    }
    ctx.exit(503, v === REFUSE_OPEN ? OPEN_BODY : HALF_OPEN_BODY, JSON_TYPE);
  },

  measure(facts: LogFacts, conf: CircuitBreakerConf): void {
    const t = breakerTable();
    const service = facts.serviceId;
    if (t === null || service === null) return;
    const trial = facts.shared?.[TRIAL];
    if (typeof trial === 'number') {
      const at = conf.slots.get(service);
      if (at === undefined || at < 0) return;
      const outcome = outcomeOf(facts, conf);
      const now = t.trialEnded(at, trial, outcome, clock.now(), conf.trials);
      // Exactly one worker makes each transition: it says so, once.
      if (now === BREAKER.OPEN) transition('warn', 'circuit-breaker: a trial failed, open again', conf, service, facts.status);
      else if (now === BREAKER.CLOSED) transition('notice', 'circuit-breaker: closed', conf, service, facts.status);
      return;
    }
    if (outcomeOf(facts, conf) !== OUTCOME.FAILURE) return;
    const at = slotOf(t, conf, service);
    if (at >= 0 && t.failure(at, clock.now(), conf.threshold, conf.windowMs)) {
      transition('warn', 'circuit-breaker: opened', conf, service, facts.status);
    }
  },
};
