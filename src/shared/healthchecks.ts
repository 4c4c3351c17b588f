/**
 * Kong's `upstreams[].healthchecks` record as the Snapshot carries it (every default filled in by
 * primary/config/entities/healthchecks.ts), and the switches both planes derive from it.
 */
export interface HealthchecksConf {
  active: {
    type: 'tcp' | 'http' | 'https' | 'grpc' | 'grpcs';
    timeout: number;
    concurrency: number;
    http_path: string;
    https_sni: string | null;
    https_verify_certificate: boolean;
    headers: Record<string, string[]> | null;
    healthy: { interval: number; http_statuses: number[]; successes: number };
    unhealthy: { interval: number; http_statuses: number[]; tcp_failures: number; timeouts: number; http_failures: number };
  };
  passive: {
    type: 'tcp' | 'http' | 'https' | 'grpc' | 'grpcs';
    healthy: { http_statuses: number[]; successes: number };
    unhealthy: { http_statuses: number[]; tcp_failures: number; timeouts: number; http_failures: number };
  };
  threshold: number;
}

export function activeOn(hc: HealthchecksConf | null | undefined): boolean {
  return hc != null && (hc.active.healthy.interval > 0 || hc.active.unhealthy.interval > 0);
}

export function passiveOn(hc: HealthchecksConf | null | undefined): boolean {
  const u = hc?.passive.unhealthy;
  return u != null && (u.tcp_failures > 0 || u.timeouts > 0 || u.http_failures > 0);
}

/** Kong: checks are "on" for an upstream when an active interval or a passive unhealthy counter is non-zero. */
export function checksOn(hc: HealthchecksConf | null | undefined): boolean {
  return activeOn(hc) || passiveOn(hc);
}
