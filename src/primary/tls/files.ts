/**
 * TLS material on disk for the workers: uWS's SSLApp and addServerName read certificates from
 * files only. The primary writes them (not each worker) so there is one copy, written once per
 * reload, in one private directory (0700, files 0600) removed at exit; workers get only the paths
 * and never write key material. Files are named by the sha256 of cert + key, so a reload writes
 * only certificates that changed, and a worker still serving the previous snapshot (a rollout in
 * progress, a respawn) finds its files: those of the last two snapshots are kept.
 *
 * Without `ssl_cert`, a self-signed default certificate (CN=localhost, P-256, 10 years) is made
 * once per start with the openssl CLI, as Kong makes one (node 20 has no X.509 generation API).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Snapshot } from '../../shared/snapshot';
import { keyMatchesCert } from '../config/entities/certificates';
import { log } from '../../lib/log';
import { snapshotWith } from '../../shared/snapshot-bulk';

let dir: string | null = null;
let generated: { cert: string; key: string } | null = null;
let previous = new Set<string>();
/** The default certificate workers serve now: a reload with a bad ssl_cert keeps it. */
let serving: { cert: string[]; key: string[] } | null = null;

function privateDir(): string {
  if (dir !== null) return dir;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperway-tls-'));
  fs.chmodSync(dir, 0o700);
  const made = dir;
  process.on('exit', () => fs.rmSync(made, { recursive: true, force: true }));
  return dir;
}

function writeOnce(file: string, text: string): void {
  if (!fs.existsSync(file)) fs.writeFileSync(file, text, { mode: 0o600 });
}

function defaultCertificate(): { cert: string; key: string } {
  if (generated !== null) return generated;
  const d = privateDir();
  const cert = path.join(d, 'default.crt');
  const key = path.join(d, 'default.key');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`cannot generate the default TLS certificate with openssl (set ssl_cert and ssl_cert_key): ${(e as Error).message.split('\n')[0]}`);
  }
  fs.chmodSync(key, 0o600);
  log('notice', 'no ssl_cert: generated a self-signed default certificate (CN=localhost)', { cert });
  generated = { cert, key };
  return generated;
}

/**
 * A certificate file and its key file, read and checked to belong together: said at start, naming
 * both files and the settings they came from, not by a client's failed handshake.
 */
export function readCertPair(certFile: string, keyFile: string, certSetting: string, keySetting: string): { cert: string; key: string } {
  let cert: string;
  let key: string;
  try {
    cert = fs.readFileSync(certFile, 'utf8');
    key = fs.readFileSync(keyFile, 'utf8');
    new X509Certificate(cert);
    createPrivateKey(key);
  } catch (e) {
    throw new Error(`${certSetting} ${certFile} / ${keySetting} ${keyFile}: ${(e as Error).message}`);
  }
  if (!keyMatchesCert(cert, key)) throw new Error(`${keySetting} ${keyFile} is not the private key of ${certSetting} ${certFile}`);
  return { cert, key };
}

function checkDefault(certFile: string, keyFile: string): void {
  readCertPair(certFile, keyFile, 'ssl_cert', 'ssl_cert_key');
}

/** Fills in file paths (and the default certificate) before workers see the snapshot. */
export function prepareTls(next: Snapshot): Snapshot {
  const certs = next.certificates ?? [];
  const listens = next.settings.proxySslListens ?? [];
  if (listens.length === 0 && certs.length === 0) return next;
  let settings = next.settings;
  if (listens.length > 0) {
    if (settings.sslCert.length === 0) {
      const d = defaultCertificate();
      settings = { ...settings, sslCert: [d.cert], sslCertKey: [d.key] };
    } else {
      try {
        checkDefault(settings.sslCert[0], settings.sslCertKey[0]);
      } catch (e) {
        // At start the gateway refuses to run; on a reload (which cannot be refused this late)
        // the running default certificate stays, and the error is logged.
        if (serving === null) throw e;
        log('error', 'reload: ssl_cert unusable, the running default certificate stays', { reason: (e as Error).message });
        settings = { ...settings, sslCert: serving.cert, sslCertKey: serving.key };
      }
    }
    serving = { cert: settings.sslCert, key: settings.sslCertKey };
  }
  const d = privateDir();
  const current = new Set<string>();
  const certificates = certs.map((c) => {
    const certFile = path.join(d, `${c.hash}.crt`);
    const keyFile = path.join(d, `${c.hash}.key`);
    writeOnce(certFile, c.cert);
    writeOnce(keyFile, c.key);
    current.add(certFile).add(keyFile);
    return { ...c, certFile, keyFile };
  });
  for (const name of fs.readdirSync(d)) {
    const file = path.join(d, name);
    if (!name.startsWith('default.') && !current.has(file) && !previous.has(file)) fs.rmSync(file, { force: true });
  }
  previous = current;
  return snapshotWith(next, { settings, certificates });
}
