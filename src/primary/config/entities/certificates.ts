/**
 * Kong's `certificates`, `ca_certificates` and `snis` entities (kong/db/schema/entities/*.lua):
 * inline PEM, checked with node's crypto so a bad file is named with its path and line, not
 * found by the first TLS client. A certificate may list its names inline (`snis: [name…]`, the
 * Admin API's shorthand, also accepted as records `{name}`); compile.ts merges both forms.
 */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { validateRecord, type Field } from '../schema';
import * as t from '../typedefs';
import { isRecord, type Path, type Problems } from '../problems';
import { entryPath, type EntityDef, type Entry, type EntityName } from './types';

/** `*.example.com`, `example.*` or a plain host name, as Kong's wildcard_host. */
export function checkSniName(v: unknown): string | null {
  if (typeof v !== 'string' || v === '') return 'expected a host name';
  const stars = v.split('*').length - 1;
  if (stars > 1) return 'only one wildcard is allowed';
  if (stars === 1 && !v.startsWith('*.') && !v.endsWith('.*')) return 'wildcard must be leftmost or rightmost character';
  const plain = v.replace(/^\*\./, 'x.').replace(/\.\*$/, '.x');
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(plain)) return `invalid SNI '${v}'`;
  if (/^\d+(\.\d+){3}$/.test(v)) return `invalid SNI '${v}': an IP address is not a server name`;
  return null;
}

/**
 * The last PEMs parsed, and what came of them: a certificate's cert and key are each checked as a
 * field, again with the pair, and once more to compare their public keys; parsing an RSA key is
 * ~1.4 ms, so 1,000 certificates spent ~4 s parsing each PEM three times. One cache per kind: a
 * combined file (certificate and key in one text) is parsed once as each. Bounded: cleared when a
 * cache holds SEEN_MAX entries.
 */
const SEEN_MAX = 64;
const seenCerts = new Map<string, X509Certificate | string>();
const seenKeys = new Map<string, KeyObject | string>();

function remember<T>(seen: Map<string, T>, pem: string, parse: (pem: string) => T): T {
  const known = seen.get(pem);
  if (known !== undefined) return known;
  const made = parse(pem);
  if (seen.size >= SEEN_MAX) seen.clear();
  seen.set(pem, made);
  return made;
}

function x509(text: string): X509Certificate | string {
  try {
    return new X509Certificate(text);
  } catch (e) {
    return `invalid certificate: ${(e as Error).message}`;
  }
}

/** The first certificate of a PEM text, or the parse error. */
function parseCert(pem: string): X509Certificate | string {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return 'invalid certificate: no PEM "BEGIN CERTIFICATE" block';
  return remember(seenCerts, pem, x509);
}

/** The private key of a PEM text, or the parse error. */
function parseKey(pem: string): KeyObject | string {
  return remember(seenKeys, pem, (text) => {
    try {
      return createPrivateKey(text);
    } catch (e) {
      return `invalid key: ${(e as Error).message}`;
    }
  });
}

function checkCertPem(v: unknown): string | null {
  const c = parseCert(String(v));
  return typeof c === 'string' ? c : null;
}

function checkKeyPem(v: unknown): string | null {
  const pem = String(v);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) return 'invalid key: no PEM "BEGIN … PRIVATE KEY" block';
  if (/ENCRYPTED/.test(pem)) return 'invalid key: an encrypted key cannot be used (Kong takes unencrypted keys)';
  const key = parseKey(pem);
  return typeof key === 'string' ? key : null;
}

/** Whether `keyPem` is the private key of `certPem` (both already parse). */
export function keyMatchesCert(certPem: string, keyPem: string): boolean {
  try {
    // Without parseCert's header check: ssl_cert files (primary/tls/files.ts) are held to what
    // node's X509Certificate reads, as before.
    const cert = remember(seenCerts, certPem, x509);
    const key = parseKey(keyPem);
    if (typeof cert === 'string' || typeof key === 'string') return false;
    const pub = createPublicKey(key).export({ type: 'spki', format: 'der' });
    return Buffer.compare(cert.publicKey.export({ type: 'spki', format: 'der' }), pub) === 0;
  } catch {
    return false;
  }
}

const pem = (check: (v: unknown) => string | null, required = false): Field => ({ type: 'string', required, check });

const certificateFields: Record<string, Field> = {
  id: t.uuid,
  created_at: t.autoTimestamp,
  updated_at: t.autoTimestamp,
  cert: pem(checkCertPem, true),
  key: pem(checkKeyPem, true),
  cert_alt: pem(checkCertPem),
  key_alt: pem(checkKeyPem),
  tags: t.tags,
};

function validateCertificate(raw: Record<string, unknown>, path: Path, pr: Problems, skip: ReadonlySet<string>): Record<string, unknown> | undefined {
  const rec = validateRecord(certificateFields, raw, path, pr, undefined, { skip: new Set([...skip, 'snis']) });
  if (!rec) return undefined;
  for (const [c, k] of [['cert', 'key'], ['cert_alt', 'key_alt']] as const) {
    const cert = rec[c];
    const key = rec[k];
    if ((cert === undefined || cert === null) !== (key === undefined || key === null)) {
      pr.err([...path, cert === undefined || cert === null ? c : k], `'${c}' and '${k}' go together: set both or neither`);
      continue;
    }
    if (typeof cert !== 'string' || typeof key !== 'string' || checkCertPem(cert) !== null || checkKeyPem(key) !== null) continue;
    if (!keyMatchesCert(cert, key)) pr.err([...path, k], `'${k}' is not the private key of '${c}' (their public keys differ)`);
  }
  // The inline names: strings (the Admin API's shorthand) or records {name}.
  const snis = raw.snis;
  if (snis !== undefined && snis !== null) {
    if (!Array.isArray(snis)) pr.err([...path, 'snis'], 'expected an array of server names');
    else {
      const names: string[] = [];
      snis.forEach((s: unknown, i: number) => {
        const name = isRecord(s) ? s.name : s;
        const err = checkSniName(name);
        if (err !== null) pr.err([...path, 'snis', i], err);
        else names.push((name as string).toLowerCase());
      });
      rec.snis = names;
    }
  }
  return rec;
}

export const certificates: EntityDef = {
  name: 'certificates',
  singular: 'certificate',
  fields: certificateFields,
  foreign: {},
  children: [],
  validate: validateCertificate,
};

const caFields: Record<string, Field> = {
  id: t.uuid,
  created_at: t.autoTimestamp,
  updated_at: t.autoTimestamp,
  cert: pem(checkCertPem, true),
  cert_digest: { type: 'string' },
  tags: t.tags,
};

export const ca_certificates: EntityDef = {
  name: 'ca_certificates',
  singular: 'ca_certificate',
  fields: caFields,
  foreign: {},
  children: [],
  validate: (raw, path, pr, skip) => validateRecord(caFields, raw, path, pr, undefined, { skip }),
};

const sniFields: Record<string, Field> = {
  id: t.uuid,
  created_at: t.autoTimestamp,
  updated_at: t.autoTimestamp,
  name: { type: 'string', required: true, check: checkSniName },
  tags: t.tags,
};

export const snis: EntityDef = {
  name: 'snis',
  singular: 'sni',
  fields: sniFields,
  endpointKey: 'name',
  endpointKeyUnique: true,
  foreign: { certificate: 'certificates' },
  requiredForeign: ['certificate'],
  children: [],
  validate: (raw, path, pr, skip) => {
    const rec = validateRecord(sniFields, raw, path, pr, undefined, { skip });
    if (rec && typeof rec.name === 'string') rec.name = rec.name.toLowerCase();
    return rec;
  },
};

const refId = (v: unknown): string | null => (typeof v === 'string' ? v : isRecord(v) && typeof v.id === 'string' ? v.id : null);

/**
 * References the generic resolver does not see: a service's `client_certificate` and
 * `ca_certificates` (ids), and a name given both inline under a certificate and as an `snis` entry.
 */
export function checkTlsReferences(entries: Record<EntityName, Entry[]>, pr: Problems): void {
  const certIds = new Set(entries.certificates.map((e) => String(e.rec.id).toLowerCase()));
  const caIds = new Set(entries.ca_certificates.map((e) => String(e.rec.id).toLowerCase()));
  for (const s of entries.services) {
    const cc = s.rec.client_certificate;
    if (cc !== undefined && cc !== null) {
      const id = refId(cc);
      if (id === null) pr.err([...entryPath(s), 'client_certificate'], 'expected the id of a certificate, or {id: …}');
      else if (!certIds.has(id.toLowerCase())) pr.err([...entryPath(s), 'client_certificate'], `invalid reference 'client_certificate: ${id}' (no such entry in 'certificates')`);
    }
    const cas = s.rec.ca_certificates;
    if (Array.isArray(cas)) {
      cas.forEach((id: unknown, i) => {
        if (typeof id === 'string' && !caIds.has(id.toLowerCase())) pr.err([...entryPath(s), 'ca_certificates', i], `invalid reference '${id}' (no such entry in 'ca_certificates')`);
      });
    }
  }
  const seen = new Map<string, Path>();
  for (const c of entries.certificates) {
    for (const [i, name] of ((c.rec.snis as string[] | undefined) ?? []).entries()) {
      const first = seen.get(name);
      if (first) pr.err([...entryPath(c), 'snis', i], `uniqueness violation: SNI '${name}' already declared`);
      else seen.set(name, [...entryPath(c), 'snis', i]);
    }
  }
  for (const s of entries.snis) {
    if (typeof s.rec.name === 'string' && seen.has(s.rec.name)) pr.err([...entryPath(s), 'name'], `uniqueness violation: SNI '${s.rec.name}' already declared under a certificate`);
  }
}
