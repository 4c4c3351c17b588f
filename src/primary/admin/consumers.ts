/** `/consumers`, `/consumers/{id or username}` (Kong `kong/api/routes/consumers.lua`). */
import type { EntityRoute } from './entity-router';

export const CONSUMER_ROUTES: readonly EntityRoute[] = [
  { pattern: ['consumers'], entity: 'consumers' },
  { pattern: ['consumers', ':consumer'], entity: 'consumers', item: 'consumer' },
];
