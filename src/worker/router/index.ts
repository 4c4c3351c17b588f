export { Router } from './match';
export type { RouteMatch } from './types';
export type { SkippedRoute } from './build';
export { normalizePath, escapeUpstreamPath } from './normalize';
export { joinUpstreamPath, sanitizeUriPostfix } from './upstream-path';
export { comparePriority, getPriority, splitPathGroups, type RoutePriority } from './priority';
