/**
 * `/plugins` and the nested `/services/{s}/plugins`, `/routes/{r}/plugins`,
 * `/consumers/{c}/plugins` (Kong `kong/api/routes/plugins.lua`), and `/plugins/enabled`.
 */
import type { EntityName } from '../config';
import { IMPLEMENTED_PLUGINS } from '../../plugins';
import type { EntityRoute } from './entity-router';

const nested = (owner: string, entity: EntityName, field: string): EntityRoute[] => [
  { pattern: [owner, `:${field}`, 'plugins'], entity: 'plugins', parent: { param: field, entity, field } },
  { pattern: [owner, `:${field}`, 'plugins', ':plugin'], entity: 'plugins', parent: { param: field, entity, field }, item: 'plugin' },
];

export const PLUGIN_ROUTES: readonly EntityRoute[] = [
  { pattern: ['plugins', 'enabled'], methods: { GET: () => ({ status: 200, body: { enabled_plugins: Object.keys(IMPLEMENTED_PLUGINS).sort() } }) } },
  { pattern: ['plugins'], entity: 'plugins' },
  { pattern: ['plugins', ':plugin'], entity: 'plugins', item: 'plugin' },
  ...nested('services', 'services', 'service'),
  ...nested('routes', 'routes', 'route'),
  ...nested('consumers', 'consumers', 'consumer'),
];
