/**
 * The Admin API's certificate for `admin_listen … ssl` entries (served by node's TLS in the
 * primary, not by uWS). `admin_ssl_cert` / `admin_ssl_cert_key` as kong.conf names them (lists;
 * the first pair is served); without them a self-signed certificate (CN=localhost, P-256,
 * 10 years) is generated at every start, as Kong generates one. Both are read into memory at
 * start: the generated key's files are removed at once, and nothing is re-read on a reload.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Settings } from '../../shared/settings';
import { log } from '../../lib/log';
import { readCertPair } from '../tls/files';

export interface AdminTls {
  cert: string;
  key: string;
}

/** The certificate to serve; throws, naming the file, when it cannot be used (the start fails). */
export function adminTlsMaterial(settings: Settings): AdminTls {
  if (settings.adminSslCert.length === 0) return selfSigned();
  return readCertPair(settings.adminSslCert[0], settings.adminSslCertKey[0], 'admin_ssl_cert', 'admin_ssl_cert_key');
}

function selfSigned(): AdminTls {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hyperway-admin-tls-'));
  try {
    fs.chmodSync(dir, 0o700);
    const certFile = path.join(dir, 'admin.crt');
    const keyFile = path.join(dir, 'admin.key');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`cannot generate the Admin API's TLS certificate with openssl (set admin_ssl_cert and admin_ssl_cert_key): ${(e as Error).message.split('\n')[0]}`);
    }
    log('notice', 'no admin_ssl_cert: the Admin API serves a self-signed certificate (CN=localhost)');
    return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
