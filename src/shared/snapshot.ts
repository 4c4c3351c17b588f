/**
 * The compiled configuration: what the primary ships to every worker (msgpackr over IPC).
 *
 * Plain data only — no functions, no classes, no RegExp objects (they cannot cross processes).
 * Every Kong default is already filled in and every reference resolved to an array index, so a
 * worker never parses, defaults or looks up by name. Field names are camelCase; the Kong
 * snake_case spelling is translated once, in primary/config/compile.ts.
 */
import type { Settings } from './settings';

export interface Snapshot {
  /** Monotonic per primary; workers acknowledge it once they serve with it. */
  version: number;
  /**
   * sha256 (hex) of the canonical declarative config: Kong's `configuration_hash`. Primary only: a
   * non-enumerable getter computed on first read (primary/config/lazy-hash.ts), so it is not in the
   * config:apply message and a worker's snapshot has none.
   */
  hash: string;
  settings: Settings;
  services: ServiceSnap[];
  routes: RouteSnap[];
  upstreams: UpstreamSnap[];
  consumers: ConsumerSnap[];
  /** The auth plugins' credentials, each pointing at its consumer by index. */
  credentials: CredentialsSnap;
  /** Plugin instances as data; the worker builds per-route chains from them (later issues). */
  plugins: PluginSnap[];
  /** Kong `certificates` (absent in a snapshot from an older primary). */
  certificates?: CertificateSnap[];
  /** Server names → certificate, exact and wildcard (`*.example.com`, `example.*`). */
  snis?: SniSnap[];
  /** Kong `ca_certificates`, for services with tls_verify. */
  caCertificates?: { id: string; cert: string }[];
}

/**
 * What a worker builds its Runtime from: the snapshot with its consumers and credentials as the
 * consumer directory's bytes (shared/consumer-directory.ts), as config:apply carries them. Tests and
 * tools may still give the lists instead; the worker then encodes them itself.
 */
export interface WorkerSnapshot extends Omit<Snapshot, 'consumers' | 'credentials'> {
  directory?: Uint8Array;
  consumers?: ConsumerSnap[];
  credentials?: CredentialsSnap;
}

export interface CertificateSnap {
  id: string;
  cert: string;
  key: string;
  certAlt: string | null;
  keyAlt: string | null;
  /** sha256 of cert + key: the files' name, so a reload rewrites only what changed. */
  hash: string;
  /** Set by the primary (primary/tls/files.ts) before workers see the snapshot: uWS reads files. */
  certFile?: string;
  keyFile?: string;
}

export interface SniSnap {
  name: string;
  /** Index into Snapshot.certificates. */
  certificate: number;
}

/** A service's upstream TLS (Kong's tls_verify, tls_verify_depth, ca_certificates, client_certificate). */
export interface UpstreamTlsSnap {
  verify: boolean;
  verifyDepth: number | null;
  /** PEM of each ca_certificates entry, in order; empty = the system's CA store. */
  ca: string[];
  /** Index into Snapshot.certificates, or -1. */
  clientCertificate: number;
}

export interface ServiceSnap {
  id: string;
  name: string | null;
  protocol: string;
  host: string;
  port: number;
  /** null when the service has no path (Kong: `url` without a path). */
  path: string | null;
  retries: number;
  connectTimeout: number;
  writeTimeout: number;
  readTimeout: number;
  enabled: boolean;
  tags: string[];
  /** Index into Snapshot.upstreams when `host` names an upstream, else -1. */
  upstream: number;
  /** Set only for https services that verify or present a client certificate. */
  tls?: UpstreamTlsSnap | null;
}

export interface RouteSnap {
  id: string;
  name: string | null;
  protocols: string[];
  /** Uppercase methods, or null when the route does not constrain methods. */
  methods: string[] | null;
  /** Route hosts as written (wildcards, optional :port), lowercased; null when absent. */
  hosts: string[] | null;
  /** Prefix paths and `~` regex paths as written; null when absent. */
  paths: string[] | null;
  /** Header name (lowercased) → values (plain values lowercased; `~*` regex values kept). */
  headers: Record<string, string[]> | null;
  snis: string[] | null;
  stripPath: boolean;
  preserveHost: boolean;
  regexPriority: number;
  pathHandling: 'v0' | 'v1';
  httpsRedirectStatusCode: number;
  requestBuffering: boolean;
  responseBuffering: boolean;
  tags: string[];
  /** Index into Snapshot.services, or -1 for a serviceless route (503). */
  service: number;
}

export interface UpstreamSnap {
  id: string;
  name: string;
  algorithm: 'round-robin' | 'consistent-hashing' | 'least-connections' | 'latency';
  hashOn: string;
  hashFallback: string;
  hashOnHeader: string | null;
  hashFallbackHeader: string | null;
  hashOnCookie: string | null;
  hashOnCookiePath: string;
  hashOnQueryArg: string | null;
  hashFallbackQueryArg: string | null;
  hashOnUriCapture: string | null;
  hashFallbackUriCapture: string | null;
  slots: number;
  hostHeader: string | null;
  /** Kong's `use_srv_name`: an SRV-resolved target sends the SRV name as Host, not the instance's name (primary only). */
  useSrvName?: boolean;
  /** Health-check settings with Kong's defaults filled in (snake_case kept: it is Kong's record). */
  healthchecks: unknown;
  tags: string[];
  targets: TargetSnap[];
}

export interface TargetSnap {
  id: string;
  /** `host:port` as Kong normalises it (port 8000 when omitted). */
  target: string;
  host: string;
  port: number;
  weight: number;
  tags: string[];
  /**
   * Index of the target's row in the shared target table (shared/target-table.ts), assigned by
   * the primary per upstream name + target so it survives reloads; -1 = not tracked (always healthy).
   */
  slot: number;
  /**
   * Set by the primary on each address it resolved a hostname target into (DNS A/AAAA/SRV,
   * primary/dns/): the name the upstream Host header carries, while `host`/`port` are the address.
   * Absent for IP targets and for a name not resolved (yet).
   */
  hostName?: string;
}

export interface ConsumerSnap {
  id: string;
  username: string | null;
  customId: string | null;
  tags: string[];
}

export interface PluginSnap {
  id: string;
  name: string;
  instanceName: string | null;
  enabled: boolean;
  /** Indexes into services/routes/consumers, or -1 when not scoped there. */
  service: number;
  route: number;
  consumer: number;
  protocols: string[];
  /** The plugin's config with its schema's defaults filled in (Kong's keys, snake_case). */
  config: Record<string, unknown>;
  tags: string[];
}

/**
 * Credentials of the implemented auth plugins. Secrets Kong generates when absent (key-auth key,
 * jwt key and secret) are left out while absent: nobody could present them.
 */
export interface CredentialsSnap {
  keyauth: { id: string; key: string; consumer: number }[];
  /** `passwordHash` is Kong's: sha1 hex of password followed by the consumer id. */
  basicauth: { id: string; username: string; passwordHash: string; consumer: number }[];
  jwt: { id: string; key: string; secret: string | null; algorithm: string; rsaPublicKey: string | null; consumer: number }[];
  acls: { id: string; group: string; consumer: number }[];
}
