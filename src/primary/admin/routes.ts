/** `/routes`, `/routes/{r}`, `/services/{s}/routes`, `/routes/{r}/service` (Kong `kong/api/routes/routes.lua`). */
import type { EntityRoute } from './entity-router';
import { findByKey } from './crud';
import { NOT_FOUND } from './kong-errors';

export const ROUTE_ROUTES: readonly EntityRoute[] = [
  { pattern: ['routes'], entity: 'routes' },
  { pattern: ['routes', ':route'], entity: 'routes', item: 'route' },
  { pattern: ['services', ':service', 'routes'], entity: 'routes', parent: { param: 'service', entity: 'services', field: 'service' } },
  { pattern: ['services', ':service', 'routes', ':route'], entity: 'routes', parent: { param: 'service', entity: 'services', field: 'service' }, item: 'route' },
  {
    pattern: ['routes', ':route', 'service'],
    methods: {
      GET(ctx, _req, params) {
        const route = findByKey(ctx.writer.store, 'routes', params.route);
        const ref = route?.service as { id?: string } | null | undefined;
        const service = ref?.id ? ctx.writer.store.get('services', ref.id) : undefined;
        return service ? { status: 200, body: service } : NOT_FOUND;
      },
    },
  },
];
