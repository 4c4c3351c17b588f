/** `/services`, `/services/{id or name}` (Kong `kong/api/routes/services.lua`). */
import type { EntityRoute } from './entity-router';

export const SERVICE_ROUTES: readonly EntityRoute[] = [
  { pattern: ['services'], entity: 'services' },
  { pattern: ['services', ':service'], entity: 'services', item: 'service' },
];
