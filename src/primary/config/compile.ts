/**
 * Validated model → Snapshot (src/shared/snapshot.ts): references become array indexes, Kong's
 * snake_case becomes camelCase, match values are lowercased once here so workers never do it,
 * and route regexes are translated once into the JS dialect the router compiles (regex.ts).
 * The input model is read, never mutated.
 */
import { createHash } from 'node:crypto';
import type { Settings } from '../../shared/settings';
import type { CertificateSnap, SniSnap, UpstreamTlsSnap, ConsumerSnap, CredentialsSnap, PluginSnap, RouteSnap, ServiceSnap, Snapshot, TargetSnap, UpstreamSnap } from '../../shared/snapshot';
import type { Entry } from './entities';
import type { ResolvedEntry } from './references';
import { normalizeTarget } from './entities/targets';
import { routerHeaderText, routerPathText } from './regex';
import { withLazyHash } from './lazy-hash';
import type { Model } from './validate';

type Rec = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const strs = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]).slice() : []);
const list = (v: unknown, f: (s: string) => string = (s) => s): string[] | null =>
  Array.isArray(v) && v.length > 0 ? (v as string[]).map(f) : null;
const idx = (e: Entry, field: string): number => (e as ResolvedEntry).resolved?.[field] ?? -1;

export function compileSnapshot(model: Model, settings: Settings, version: number): Snapshot {
  const { entries } = model;
  const tlsIndex = new TlsIndex(model);
  const upstreamByName = new Map<string, number>();
  entries.upstreams.forEach((u, i) => upstreamByName.set(String(u.rec.name).toLowerCase(), i));

  const services: ServiceSnap[] = entries.services.map(({ rec }) => withTls({
    id: rec.id as string,
    name: str(rec.name),
    protocol: rec.protocol as string,
    host: rec.host as string,
    port: rec.port as number,
    path: str(rec.path),
    retries: rec.retries as number,
    connectTimeout: rec.connect_timeout as number,
    writeTimeout: rec.write_timeout as number,
    readTimeout: rec.read_timeout as number,
    enabled: rec.enabled as boolean,
    tags: strs(rec.tags),
    upstream: upstreamByName.get(String(rec.host).toLowerCase()) ?? -1,
  }, upstreamTls(rec, tlsIndex)));

  const routes: RouteSnap[] = entries.routes.map((e) => compileRoute(e));

  const targetsOf = new Map<number, TargetSnap[]>();
  // One list per upstream, appended to: copying it for every target was quadratic in an
  // upstream's targets (40,000 targets: ~54 s of compile).
  for (const t of entries.targets) {
    const u = idx(t, 'upstream');
    const list = targetsOf.get(u);
    if (list === undefined) targetsOf.set(u, [compileTarget(t)]);
    else list.push(compileTarget(t));
  }
  const upstreams: UpstreamSnap[] = entries.upstreams.map((u) => ({
    id: u.rec.id as string,
    name: u.rec.name as string,
    algorithm: u.rec.algorithm as UpstreamSnap['algorithm'],
    hashOn: u.rec.hash_on as string,
    hashFallback: u.rec.hash_fallback as string,
    hashOnHeader: str(u.rec.hash_on_header)?.toLowerCase() ?? null,
    hashFallbackHeader: str(u.rec.hash_fallback_header)?.toLowerCase() ?? null,
    hashOnCookie: str(u.rec.hash_on_cookie),
    hashOnCookiePath: u.rec.hash_on_cookie_path as string,
    hashOnQueryArg: str(u.rec.hash_on_query_arg),
    hashFallbackQueryArg: str(u.rec.hash_fallback_query_arg),
    hashOnUriCapture: str(u.rec.hash_on_uri_capture),
    hashFallbackUriCapture: str(u.rec.hash_fallback_uri_capture),
    slots: u.rec.slots as number,
    hostHeader: str(u.rec.host_header),
    useSrvName: u.rec.use_srv_name === true,
    healthchecks: structuredClone(u.rec.healthchecks),
    tags: strs(u.rec.tags),
    targets: targetsOf.get(u.index) ?? [],
  }));

  const consumers: ConsumerSnap[] = entries.consumers.map(({ rec }) => ({
    id: rec.id as string,
    username: str(rec.username),
    customId: str(rec.custom_id),
    tags: strs(rec.tags),
  }));

  const credentials = compileCredentials(model, consumers);

  const plugins: PluginSnap[] = entries.plugins.map((e) => ({
    id: e.rec.id as string,
    name: e.rec.name as string,
    instanceName: str(e.rec.instance_name),
    enabled: e.rec.enabled as boolean,
    service: idx(e, 'service'),
    route: idx(e, 'route'),
    consumer: idx(e, 'consumer'),
    protocols: strs(e.rec.protocols),
    config: structuredClone((e.rec.config ?? {}) as Rec),
    tags: strs(e.rec.tags),
  }));

  const tls = compileTls(model);
  // The hash is computed when the primary first reads it (lazy-hash.ts), not on a start's way to the workers.
  return withLazyHash({ version, settings: structuredClone(settings), services, routes, upstreams, consumers, credentials, plugins, ...tls }, () => configHash(model, settings));
}

function compileTls({ entries }: Model): Pick<Snapshot, 'certificates' | 'snis' | 'caCertificates'> {
  const certificates: CertificateSnap[] = entries.certificates.map(({ rec }) => ({
    id: rec.id as string,
    cert: rec.cert as string,
    key: rec.key as string,
    certAlt: str(rec.cert_alt),
    keyAlt: str(rec.key_alt),
    hash: createHash('sha256').update(`${rec.cert as string}\n${rec.key as string}`).digest('hex'),
  }));
  const snis: SniSnap[] = [];
  entries.certificates.forEach(({ rec }, i) => {
    for (const name of (rec.snis as string[] | undefined) ?? []) snis.push({ name, certificate: i });
  });
  for (const e of entries.snis) {
    if (idx(e, 'certificate') >= 0) snis.push({ name: e.rec.name as string, certificate: idx(e, 'certificate') });
  }
  const caCertificates = entries.ca_certificates.map(({ rec }) => ({ id: rec.id as string, cert: rec.cert as string }));
  return { certificates, snis, caCertificates };
}

/** `tls` only on services that verify or present a certificate: the others' snapshot is unchanged. */
function withTls(svc: ServiceSnap, tls: UpstreamTlsSnap | null): ServiceSnap {
  if (tls !== null) svc.tls = tls;
  return svc;
}

/**
 * Certificates and CA certificates by lowercase id, each made when a service first asks: a service
 * looked its client certificate and CAs up by scanning every one (quadratic in services ×
 * certificates).
 */
class TlsIndex {
  readonly #model: Model;
  #certs: Map<string, number> | null = null;
  #cas: Map<string, number> | null = null;

  constructor(model: Model) {
    this.#model = model;
  }

  /** The index of the certificate with this id (any case), or -1. */
  certificate(id: string): number {
    this.#certs ??= byLowerId(this.#model.entries.certificates);
    return this.#certs.get(id.toLowerCase()) ?? -1;
  }

  /** The PEM of the CA certificate with this id (any case). */
  ca(id: string): string | undefined {
    this.#cas ??= byLowerId(this.#model.entries.ca_certificates);
    const i = this.#cas.get(id.toLowerCase());
    return i === undefined ? undefined : (this.#model.entries.ca_certificates[i].rec.cert as string);
  }
}

/** Lowercase id → index; the first of equal ids wins, as findIndex did. */
function byLowerId(list: readonly Entry[]): Map<string, number> {
  const m = new Map<string, number>();
  list.forEach((e, i) => {
    const k = String(e.rec.id).toLowerCase();
    if (!m.has(k)) m.set(k, i);
  });
  return m;
}

function upstreamTls(rec: Rec, tls: TlsIndex): UpstreamTlsSnap | null {
  if (rec.protocol !== 'https') return null;
  const cc = rec.client_certificate;
  const ccId = typeof cc === 'string' ? cc : cc !== null && typeof cc === 'object' ? String((cc as Rec).id) : null;
  const clientCertificate = ccId === null ? -1 : tls.certificate(ccId);
  const verify = rec.tls_verify === true;
  if (!verify && clientCertificate < 0) return null;
  const ca = strs(rec.ca_certificates)
    .map((id) => tls.ca(id))
    .filter((c): c is string => c !== undefined);
  return { verify, verifyDepth: typeof rec.tls_verify_depth === 'number' ? rec.tls_verify_depth : null, ca, clientCertificate };
}

function compileRoute(e: Entry): RouteSnap {
  const rec = e.rec;
  let headers: Record<string, string[]> | null = null;
  if (rec.headers && typeof rec.headers === 'object' && Object.keys(rec.headers).length > 0) {
    headers = {};
    for (const [name, values] of Object.entries(rec.headers as Record<string, string[]>)) {
      // Kong compares plain header values case-insensitively; `~*` values are regexes, in the JS
      // form the router compiles (regex.ts).
      const vals = values.map((v) => (v.startsWith('~*') ? routerHeaderText(v) : v.toLowerCase()));
      const key = name.toLowerCase();
      headers[key] = [...(headers[key] ?? []), ...vals];
    }
  }
  return {
    id: rec.id as string,
    name: str(rec.name),
    protocols: strs(rec.protocols),
    methods: list(rec.methods, (m) => m.toUpperCase()),
    hosts: list(rec.hosts, (h) => h.toLowerCase()),
    // Regex paths carry the router-ready text (regex.ts): Rust-only syntax is translated here.
    paths: list(rec.paths, (p) => (p.startsWith('~') ? routerPathText(p) : p)),
    headers,
    snis: list(rec.snis, (s) => s.toLowerCase()),
    stripPath: rec.strip_path as boolean,
    preserveHost: rec.preserve_host as boolean,
    regexPriority: rec.regex_priority as number,
    pathHandling: rec.path_handling as 'v0' | 'v1',
    httpsRedirectStatusCode: rec.https_redirect_status_code as number,
    requestBuffering: rec.request_buffering as boolean,
    responseBuffering: rec.response_buffering as boolean,
    tags: strs(rec.tags),
    service: idx(e, 'service'),
  };
}

/** Kong's basic-auth `crypto.hash`: sha1 hex of the password followed by the consumer id. */
export function basicAuthHash(password: string, consumerId: string): string {
  return createHash('sha1').update(password + consumerId).digest('hex');
}

function compileCredentials({ entries }: Model, consumers: ConsumerSnap[]): CredentialsSnap {
  const owned = (e: Entry): boolean => idx(e, 'consumer') >= 0;
  return {
    keyauth: entries.keyauth_credentials
      .filter((e) => owned(e) && typeof e.rec.key === 'string')
      .map((e) => ({ id: e.rec.id as string, key: e.rec.key as string, consumer: idx(e, 'consumer') })),
    basicauth: entries.basicauth_credentials.filter(owned).map((e) => ({
      id: e.rec.id as string,
      username: e.rec.username as string,
      passwordHash: basicAuthHash(e.rec.password as string, consumers[idx(e, 'consumer')].id),
      consumer: idx(e, 'consumer'),
    })),
    jwt: entries.jwt_secrets
      .filter((e) => owned(e) && typeof e.rec.key === 'string')
      .map((e) => ({
        id: e.rec.id as string,
        key: e.rec.key as string,
        secret: str(e.rec.secret),
        algorithm: e.rec.algorithm as string,
        rsaPublicKey: str(e.rec.rsa_public_key),
        consumer: idx(e, 'consumer'),
      })),
    acls: entries.acls.filter(owned).map((e) => ({ id: e.rec.id as string, group: e.rec.group as string, consumer: idx(e, 'consumer') })),
  };
}

function compileTarget({ rec }: Entry): TargetSnap {
  const t = normalizeTarget(rec.target as string);
  return { id: rec.id as string, target: t.target, host: t.host, port: t.port, weight: rec.weight as number, tags: strs(rec.tags), slot: -1 };
}

/** JSON with object keys sorted at every level: equal configs give equal text. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(v[i]);
    return out + ']';
  }
  const keys = Object.keys(v).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) out += `${i === 0 ? '' : ','}${JSON.stringify(keys[i])}:${canonicalJson((v as Rec)[keys[i]])}`;
  return out + '}';
}

/**
 * The sorted keys of one record shape and their `"key":` text: records of an entity mostly share
 * a few shapes, so each shape is sorted and quoted once, not once per record.
 */
interface ShapeText {
  keys: string[];
  sorted: string[];
  /** `"key":` (with the leading comma from the second key on), per sorted key. */
  prefix: string[];
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** canonicalJson of `{ ...rec, id, refs }` without building that object (one per entity). */
function canonicalEntry(e: Entry, shapes: ShapeText[]): string {
  const rec = e.rec;
  const keys = Object.keys(rec);
  let shape: ShapeText | undefined;
  for (const s of shapes) {
    if (sameKeys(s.keys, keys)) {
      shape = s;
      break;
    }
  }
  if (shape === undefined) {
    const sorted = keys.slice();
    if (!('id' in rec)) sorted.push('id');
    if (!('refs' in rec)) sorted.push('refs');
    sorted.sort();
    shape = { keys, sorted, prefix: sorted.map((k, i) => `${i === 0 ? '' : ','}${JSON.stringify(k)}:`) };
    // A handful of shapes per entity; a file of all-different records just sorts each one.
    if (shapes.length < 16) shapes.push(shape);
  }
  const { sorted, prefix } = shape;
  let out = '{';
  for (let i = 0; i < sorted.length; i++) {
    const k = sorted[i];
    const v = k === 'id' ? (e.idGenerated ? null : rec.id) : k === 'refs' ? e.refs : rec[k];
    out += prefix[i] + canonicalJson(v);
  }
  return out + '}';
}

/**
 * Kong's configuration_hash role: sha256 of the validated entities (defaults filled in) and the
 * settings. Generated ids are left out, so random ones do not make equal files hash differently.
 * The text is the canonicalJson of `{ format, entities: { <name>: [{ ...rec, id, refs }] }, settings }`,
 * written part by part into the hash.
 */
function configHash(model: Model, settings: Settings): string {
  const hash = createHash('sha256');
  const names = Object.keys(model.entries).filter((n) => model.entries[n as keyof Model['entries']].length > 0).sort();
  hash.update(`{"entities":{`);
  names.forEach((name, n) => {
    hash.update(`${n === 0 ? '' : ','}${JSON.stringify(name)}:[`);
    const list_ = model.entries[name as keyof Model['entries']];
    const shapes: ShapeText[] = [];
    let chunk = '';
    for (let i = 0; i < list_.length; i++) {
      chunk += (i === 0 ? '' : ',') + canonicalEntry(list_[i], shapes);
      if (chunk.length > 65536) {
        hash.update(chunk);
        chunk = '';
      }
    }
    hash.update(chunk + ']');
  });
  hash.update(`},"format":${canonicalJson(model.formatVersion)},"settings":${canonicalJson(settings)}}`);
  return hash.digest('hex');
}
