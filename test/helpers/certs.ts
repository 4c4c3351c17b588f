/** Certificates made at test time with the openssl CLI, in a temp dir the caller removes (remove()). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export class CertDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'hyperway-certs-'));

  /** A self-signed CA. */
  ca(name: string): Pem {
    return this.#make(name, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }

  /** A leaf for `names` (first is the CN), self-signed or signed by `ca`. */
  leaf(file: string, names: string[], ca?: Pem): Pem {
    const san = names.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    if (ca === undefined) {
      return this.#make(file, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
        '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`]);
    }
    const keyFile = join(this.dir, `${file}.key`);
    const csr = join(this.dir, `${file}.csr`);
    const certFile = join(this.dir, `${file}.crt`);
    const ext = join(this.dir, `${file}.ext`);
    writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${names[0]}`, '-keyout', keyFile, '-out', csr], { stdio: 'pipe' });
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', certFile], { stdio: 'pipe' });
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
  }

  #make(file: string, args: string[]): Pem {
    const keyFile = join(this.dir, `${file}.key`);
    const certFile = join(this.dir, `${file}.crt`);
    execFileSync('openssl', [...args, '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
