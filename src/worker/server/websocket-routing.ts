/**
 * Routing for WebSocket handshakes. A handshake may take an http/https route (Kong proxies an
 * Upgrade on those as nginx does) or a ws/wss route (Kong EE's WebSocket routes, which take
 * nothing else). The Runtime's router leaves ws/wss routes out; handshakes use a second Router
 * over the same route list where ws counts as http and wss as https, so route indexes, priorities
 * and the rest of the request path stay the same. It is built on the first handshake per
 * snapshot, and only when the snapshot has ws/wss routes: without them the Runtime's router serves.
 */
import { Router } from '../router';
import type { RouteSnap } from '../../shared/snapshot';
import type { Runtime } from '../runtime';

export interface WebSocketRouting {
  readonly router: Router;
  /** Per route index: the route takes a handshake over plain http (its protocols have http or ws). */
  readonly acceptsHttp: Uint8Array;
}

const built = new WeakMap<Runtime, WebSocketRouting>();

export function webSocketRouting(runtime: Runtime): WebSocketRouting {
  let routing = built.get(runtime);
  if (routing === undefined) {
    routing = build(runtime);
    built.set(runtime, routing);
  }
  return routing;
}

function build(runtime: Runtime): WebSocketRouting {
  const snaps = runtime.snapshot.routes;
  const acceptsHttp = new Uint8Array(snaps.length);
  let any = false;
  const asHttp: RouteSnap[] = snaps.map((snap, i) => {
    const p = snap.protocols;
    acceptsHttp[i] = p.includes('http') || p.includes('ws') ? 1 : 0;
    if (!p.includes('ws') && !p.includes('wss')) return snap;
    any = true;
    const protocols: string[] = [];
    if (p.includes('ws')) protocols.push('http');
    if (p.includes('wss')) protocols.push('https');
    return { ...snap, protocols };
  });
  return { router: any ? new Router(asHttp, runtime.snapshot.services) : runtime.router, acceptsHttp };
}
