/**
 * The plugin chain the plugins and latency benches both measure: key-auth + acl + cors +
 * correlation-id on /chain next to a bare route on /, with one consumer that passes it.
 */

/** What a request needs to pass the chain: the consumer's key and an allowed Origin. */
export const CHAIN_HEADERS: Readonly<Record<string, string>> = { apikey: 'bench-key', Origin: 'https://app.example.com' };

export interface ChainExtras {
  /** More fields of the consumer (credentials of other plugins), one YAML line each. */
  consumer?: string[];
  /** More entries of the service's `routes:` list, as YAML indented to fit it, ending in a newline. */
  routes?: string;
}

/** Declarative config: service bench-upstream with routes `bare` (/) and `chain` (/chain), and consumer `bench`. */
export function chainConfig(upstreamPort: number, extras: ChainExtras = {}): string {
  return `_format_version: "3.0"
consumers:
  - username: bench
    keyauth_credentials: [{ key: bench-key }]
    acls: [{ group: bench }]
${(extras.consumer ?? []).map((l) => `    ${l}\n`).join('')}services:
  - name: bench-upstream
    url: http://127.0.0.1:${upstreamPort}
    routes:
      - { name: bare, paths: [/] }
      - name: chain
        paths: [/chain]
        strip_path: true
        plugins:
          - { name: key-auth }
          - { name: acl, config: { allow: [bench] } }
          - { name: cors, config: { origins: ["https://app.example.com"], credentials: true } }
          - { name: correlation-id, config: { echo_downstream: true } }
${extras.routes ?? ''}`;
}
