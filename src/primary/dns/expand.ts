/**
 * Primary-side target expansion: every upstream target whose host is a name becomes one entry
 * per address the name resolves to, so the workers balance over addresses and the health table
 * keeps a row per address (slots keyed by upstream + target + address, primary/health/slots.ts).
 *   A/AAAA: host = the address, the target's port and weight, Host header = the target's name.
 *   SRV:    host, port and weight per instance (top priority, weight 0 = 1); Host header = the
 *           instance's name, or the SRV name itself with the upstream's use_srv_name (Kong).
 * A name not resolved yet stays as it is (the worker's getaddrinfo connects meanwhile); a name
 * whose lookups failed past dns_stale_ttl stays as one entry that the caller marks DNS_ERROR.
 */
import { isIP } from 'node:net';
import type { Snapshot, TargetSnap } from '../../shared/snapshot';
import type { View } from './cache';
import { snapshotWith } from '../../shared/snapshot-bulk';

export interface Expanded {
  snapshot: Snapshot;
  /** `upstreamIndex:targetIndex` of the entries whose name failed (DNS_ERROR). */
  failed: Set<string>;
}

/** The hostnames upstream targets use (lowercased by the target normaliser). */
export function targetNames(snapshot: Snapshot): Set<string> {
  const names = new Set<string>();
  for (const u of snapshot.upstreams) for (const t of u.targets) if (isIP(t.host) === 0) names.add(t.host);
  return names;
}

export function expandTargets(snapshot: Snapshot, view: (name: string) => View): Expanded {
  const failed = new Set<string>();
  const upstreams = snapshot.upstreams.map((u, ui) => {
    if (u.targets.every((t) => isIP(t.host) !== 0)) return u;
    const targets: TargetSnap[] = [];
    for (const t of u.targets) {
      const v = isIP(t.host) !== 0 ? null : view(t.host);
      if (v === null || v.state === 'pending') {
        targets.push(t);
      } else if (v.state === 'failed') {
        failed.add(`${ui}:${targets.length}`);
        targets.push(t);
      } else {
        for (const a of v.addresses) {
          targets.push({
            ...t,
            host: a.ip,
            port: a.port ?? t.port,
            // Weight 0 switches the target off whatever its SRV records say.
            weight: t.weight === 0 ? 0 : (a.weight ?? t.weight),
            hostName: a.name === null || u.useSrvName === true ? t.host : a.name,
          });
        }
      }
    }
    return { ...u, targets };
  });
  return { snapshot: snapshotWith(snapshot, { upstreams }), failed };
}
