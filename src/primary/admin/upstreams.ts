/** `/upstreams`, `/upstreams/{id or name}` (Kong `kong/api/routes/upstreams.lua`). */
import type { EntityRoute } from './entity-router';

export const UPSTREAM_ROUTES: readonly EntityRoute[] = [
  { pattern: ['upstreams'], entity: 'upstreams' },
  { pattern: ['upstreams', ':upstream'], entity: 'upstreams', item: 'upstream' },
];
