// The shipped alert rules and Grafana dashboard query only series the gateway exports: a query on
// a name nobody exports (a Kong 2.x name, a typo) never fires and draws nothing, silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { families, LabelNames } from '../../../src/primary/metrics/registry';
import type { Snapshot } from '../../../src/shared/snapshot';

const ROOT = resolve(__dirname, '../../../..');
function exported(kong2: boolean): Map<string, string> {
  const fams = families({
    sums: { status: new Map(), routes: new Map(), dropped: 0, workerRequests: [0] },
    snapshot: { services: [], routes: [], consumers: [] } as unknown as Snapshot,
    nodeId: 'n', kong2, workers: [], connections: { active: 0, writing: 0 }, totalRequests: 0,
    // As with upstream_health_metrics on (the seed's prometheus config).
    targets: [{ upstream: 'u', target: 't:80', address: 't:80', state: 'healthy' }],
  }, new LabelNames());
  return new Map(fams.map((f) => [f.name, f.type]));
}

/** Series names in a PromQL expression, mapped to their family (histogram suffixes dropped). */
function queried(expr: string, known: Map<string, string>): string[] {
  const out: string[] = [];
  for (const m of expr.matchAll(/\b((?:kong|hyperway)_[a-z0-9_]+)/g)) {
    const name = m[1];
    const base = name.replace(/_(bucket|sum|count)$/, '');
    out.push(base !== name && known.get(base) === 'histogram' ? base : name);
  }
  return out;
}

function exprsOfDashboard(): string[] {
  const dash = JSON.parse(readFileSync(resolve(ROOT, 'native-config/grafana/hyperway-dashboard.json'), 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
    templating: { list: { definition?: string }[] };
  };
  return [...dash.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...dash.templating.list.flatMap((v) => (v.definition ? [v.definition] : []))];
}

function exprsOfAlerts(): string[] {
  const doc = parse(readFileSync(resolve(ROOT, 'native-config/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

test('every series the shipped alerts and dashboard query is exported', () => {
  const known = exported(false);
  const exprs = [...exprsOfAlerts(), ...exprsOfDashboard()];
  assert.ok(exprs.length >= 12, `found ${exprs.length} expressions`);
  const missing = new Set<string>();
  for (const e of exprs) for (const name of queried(e, known)) if (!known.has(name)) missing.add(name);
  assert.deepEqual([...missing], []);
});

test('the alerts are the seed\'s three, and the target-down rule matches only a target in state unhealthy or dns_error', () => {
  const doc = parse(readFileSync(resolve(ROOT, 'native-config/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const rules = doc.groups.flatMap((g) => g.rules);
  assert.deepEqual(rules.map((r) => r.alert), ['HyperwayHighLatencyP95', 'HyperwayHigh5xxRatio', 'HyperwayUpstreamTargetDown']);
  const down = rules[2].expr;
  assert.match(down, /kong_upstream_target_health\{state=~"unhealthy\|dns_error"\}/);
  assert.match(down, /==\s*1\s*$/);
  assert.doesNotMatch(down, /==\s*0/);
});

test("with prometheus_kong2_metrics the seed's Kong 2.x latency series exists too", () => {
  const seedRule = 'histogram_quantile(0.95, sum(rate(kong_latency_bucket{type="request"}[5m])) by (le)) > 1000';
  assert.deepEqual(queried(seedRule, exported(true)).filter((n) => !exported(true).has(n)), []);
  assert.deepEqual(queried(seedRule, exported(false)).filter((n) => !exported(false).has(n)), ['kong_latency_bucket']);
});
