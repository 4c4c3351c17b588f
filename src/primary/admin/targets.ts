/**
 * `/upstreams/{u}/targets`, `/upstreams/{u}/targets/{id or host:port}` (Kong
 * `kong/api/routes/upstreams.lua`); `/targets/all` lists the same (no health filter in Hyperway).
 */
import type { EntityRoute } from './entity-router';

const parent = { param: 'upstream', entity: 'upstreams', field: 'upstream' } as const;

export const TARGET_ROUTES: readonly EntityRoute[] = [
  { pattern: ['upstreams', ':upstream', 'targets'], entity: 'targets', parent },
  { pattern: ['upstreams', ':upstream', 'targets', 'all'], entity: 'targets', parent },
  { pattern: ['upstreams', ':upstream', 'targets', ':target'], entity: 'targets', parent, item: 'target' },
];
