/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and splits its self time into the categories the
 * performance program tracks (issue 21): the gateway's own JS, undici, node core, native code
 * (uWS and V8 builtins: frames without a script), GC, and idle.
 */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export type Category = 'hyperway worker' | 'hyperway plugins' | 'hyperway other' | 'undici' | 'node core' | 'other JS' | 'native (uWS, V8)' | 'GC' | 'idle';

export function categoryOf(functionName: string, url: string): Category {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (url === '') return 'native (uWS, V8)';
  if (url.includes('/node_modules/undici/')) return 'undici';
  if (url.startsWith('node:')) return 'node core';
  if (url.includes('/dist/src/worker/')) return 'hyperway worker';
  if (url.includes('/dist/src/plugins/')) return 'hyperway plugins';
  if (url.includes('/dist/src/')) return 'hyperway other';
  return 'other JS';
}

export interface ProfileSummary {
  /** Sampled microseconds per category. */
  byCategory: Map<Category, number>;
  /** The functions with the most self time: `name (file:line)` → µs. */
  top: Array<[string, number]>;
  totalUs: number;
}

/** Self time per sample: each sample's time delta goes to the node it landed in. */
export function summarize(p: CpuProfile, topN = 20): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const byCategory = new Map<Category, number>();
  const byFunction = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]);
    const dt = p.timeDeltas[i] ?? 0;
    if (node === undefined || dt <= 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const cat = categoryOf(functionName, url);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + dt);
    const file = url === '' ? '' : url.replace(/^.*\/(dist|node_modules)\//, '$1/');
    const key = `${functionName || '(anonymous)'}${file === '' ? '' : ` (${file}:${lineNumber + 1})`}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + dt);
    totalUs += dt;
  }
  const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, topN);
  return { byCategory, top, totalUs };
}
