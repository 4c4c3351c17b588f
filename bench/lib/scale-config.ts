/**
 * A large kong.yml for config-scale measurements (bench/config-scale.ts) and the big-config test:
 * `routes` routes over `routes / 10` services, `consumers` consumers with one key-auth credential
 * each; every 10th is also in an acl group, and only those pass the last service's acl. Route i of the mix:
 *   i % 10 == 0  host only (`h<i>.example.com`)            i % 10 == 1  host + prefix path
 *   i % 10 == 2  methods + prefix path                    i % 25 == 3  regex path
 *   i % 50 == 4  wildcard host `*.w<i>.example.com` + path  else         prefix path
 * Every route's paths start with `/s<service>/r<i>`, so any route is reachable on its own. The
 * last service carries key-auth + acl (allow: the consumers' groups), so a consumer's key works there.
 */

export interface ScaleShape {
  routes: number;
  consumers: number;
  upstreamPort: number;
  /** Appended to the last service's route names: a reload with a different tag changes the config. */
  tag?: string;
}

export const ACL_GROUPS = 20;

export function scaleRouteName(i: number): string {
  return `r${i}`;
}

/** The request that reaches route i alone: [method, host, path]. */
export function scaleRouteRequest(i: number, routesPerService = 10): { method: string; host: string; path: string } {
  const s = Math.floor(i / routesPerService);
  if (i % 10 === 0) return { method: 'GET', host: `h${i}.example.com`, path: '/anything' };
  if (i % 10 === 1) return { method: 'GET', host: `h${i}.example.com`, path: `/s${s}/r${i}/x` };
  if (i % 10 === 2) return { method: 'POST', host: 'any.example.com', path: `/s${s}/r${i}/x` };
  if (i % 25 === 3) return { method: 'GET', host: 'any.example.com', path: `/s${s}/r${i}/42` };
  if (i % 50 === 4) return { method: 'GET', host: `a.w${i}.example.com`, path: `/s${s}/r${i}/x` };
  return { method: 'GET', host: 'any.example.com', path: `/s${s}/r${i}/x` };
}

export function scaleConsumerKey(i: number): string {
  return `key-${i}-${((i * 2654435761) >>> 0).toString(36)}`;
}

function routeYaml(i: number, s: number, tag: string): string {
  const name = `name: ${scaleRouteName(i)}${tag}`;
  if (i % 10 === 0) return `{ ${name}, hosts: [h${i}.example.com] }`;
  if (i % 10 === 1) return `{ ${name}, hosts: [h${i}.example.com], paths: [/s${s}/r${i}] }`;
  if (i % 10 === 2) return `{ ${name}, methods: [POST, PUT], paths: [/s${s}/r${i}] }`;
  if (i % 25 === 3) return `{ ${name}, paths: ["~/s${s}/r${i}/(?<id>\\\\d+)$"] }`;
  if (i % 50 === 4) return `{ ${name}, hosts: ["*.w${i}.example.com"], paths: [/s${s}/r${i}] }`;
  return `{ ${name}, paths: [/s${s}/r${i}] }`;
}

export function scaleConfig(shape: ScaleShape): string {
  const services = Math.max(1, Math.ceil(shape.routes / 10));
  const tag = shape.tag ?? '';
  const out: string[] = ['_format_version: "3.0"', 'services:'];
  for (let s = 0; s < services; s++) {
    out.push(`  - name: svc${s}`, `    url: http://127.0.0.1:${shape.upstreamPort}/up${s}`, '    routes:');
    const last = Math.min(shape.routes, (s + 1) * 10);
    for (let i = s * 10; i < last; i++) out.push(`      - ${routeYaml(i, s, s === services - 1 ? tag : '')}`);
    if (s === services - 1) {
      const groups = Array.from({ length: ACL_GROUPS }, (_, g) => `g${g}`).join(', ');
      out.push('    plugins:', '      - { name: key-auth }', `      - { name: acl, config: { allow: [${groups}] } }`);
    }
  }
  out.push('consumers:');
  for (let c = 0; c < shape.consumers; c++) {
    out.push(`  - username: c${c}`, `    keyauth_credentials: [{ key: ${scaleConsumerKey(c)} }]`);
    if (c % 10 === 0) out.push(`    acls: [{ group: g${(c / 10) % ACL_GROUPS} }]`);
  }
  out.push('');
  return out.join('\n');
}
