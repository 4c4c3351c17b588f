/**
 * Kong's `nginx_events_worker_connections` (nginx's `worker_connections`): at most that many
 * client connections per worker; a connection beyond it is closed as soon as it opens, and the
 * established ones are untouched (nginx: "worker_connections are not enough", the new connection
 * closed). Kong's default `auto` (the open-files limit) counts nothing here: no filter is attached.
 *
 * The count comes from uWS's App.filter ((res, +1) on open, (res, -1) on close), one shared count
 * for the worker's plain and TLS apps. uWS 20.30 (@trufflesuite) has no filter: there the setting
 * is reported as not enforced, once per worker, and nothing is counted (see README).
 */
import type { HttpResponse, TemplatedApp } from './uws';
import { log } from '../../lib/log';

type Filterable = TemplatedApp & { filter?(cb: (res: HttpResponse, count: number) => void): TemplatedApp };

let open = 0;
let limit = 0;
let warned = false;

function onConnection(res: HttpResponse, count: number): void {
  open += count;
  // A connection closed here reports its own -1 (uWS calls the filter on every close).
  if (count > 0 && open > limit) res.close();
}

/**
 * Counts `app`'s connections against `max` (0 = `auto`: nothing attached). Returns whether the
 * build can: false on builds without App.filter.
 */
export function limitConnections(app: TemplatedApp, max: number): boolean {
  limit = max;
  if (max <= 0) return true;
  const filterable = app as Filterable;
  if (typeof filterable.filter !== 'function') {
    if (!warned) log('warn', 'nginx_events_worker_connections is not enforced: this uWS build gives no connection events (App.filter)', { limit: max });
    warned = true;
    return false;
  }
  filterable.filter(onConnection);
  return true;
}
