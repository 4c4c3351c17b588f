/**
 * The worker's TLS listeners: a uWS SSLApp on every `ssl` proxy_listen entry, with the default
 * certificate (ssl_cert, or the primary's self-signed one) and one addServerName per `snis` name
 * (uWS matches `*.example.com` one label deep itself, as Kong does; unknown names and clients
 * without SNI get the default certificate).
 *
 * Certificates change by generation, never in place: on uWS 20.30 a request on a connection whose
 * server name was removed (removeServerName) crashes the process, since uWS frees that name's
 * router while the connection still points at it. So a snapshot whose TLS material differs builds
 * a new SSLApp, listens on the same addresses (SO_REUSEPORT), then closes the old app's listen
 * sockets: new connections get the new certificates, connections already open keep their old app,
 * which is never closed before the worker exits (its few SSL contexts are the price of a reload).
 */
import type { ListenSocket, TemplatedApp, UwsModule } from './uws';
import type { WorkerSnapshot } from '../../shared/snapshot';
import { formatAddress, type ListenAddress } from '../../shared/settings';
import { attachProxyHandlers } from './app';

/** OpenSSL cipher lists (TLS 1.2; TLS 1.3 suites are OpenSSL's defaults) for Kong's ssl_cipher_suite. */
const INTERMEDIATE = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:' +
  'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384';
const CIPHERS: Record<string, string> = {
  // Kong's modern is TLS 1.3 only, which uWS cannot enforce: TLS 1.2 keeps only AEAD + forward secrecy.
  modern: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
  intermediate: INTERMEDIATE,
  old: `${INTERMEDIATE}:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:` +
    'ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA',
};

interface Generation {
  app: TemplatedApp;
  sockets: ListenSocket[];
}

interface TlsPlan {
  addresses: ListenAddress[];
  options: Record<string, string>;
  /** `sni`: the name a route's `snis` lists, handed to requests on that name's router; else ''. */
  names: { name: string; options: Record<string, string>; sni: string }[];
}

/** The TLS part of a snapshot as uWS options; null when nothing is served over TLS. */
function planOf(snapshot: WorkerSnapshot, addresses: ListenAddress[]): TlsPlan | null {
  const s = snapshot.settings;
  if (addresses.length === 0 || s.sslCert.length === 0) return null;
  const ciphers = s.sslCipherSuite === 'custom' ? (s.sslCiphers ?? INTERMEDIATE) : CIPHERS[s.sslCipherSuite] ?? INTERMEDIATE;
  const options = { cert_file_name: s.sslCert[0], key_file_name: s.sslCertKey[0], ssl_ciphers: ciphers };
  const certs = snapshot.certificates ?? [];
  const routeSnis = new Set<string>();
  for (const r of snapshot.routes) for (const n of r.snis ?? []) if (!n.startsWith('*')) routeSnis.add(n);
  const byName = new Map<string, Record<string, string>>();
  for (const sni of snapshot.snis ?? []) {
    const c = certs[sni.certificate];
    if (c === undefined || c.certFile === undefined || c.keyFile === undefined) continue;
    byName.set(sni.name, { cert_file_name: c.certFile, key_file_name: c.keyFile, ssl_ciphers: ciphers });
  }
  // uWS 20.30 does not tell JS which server name a connection used, only which registered name's
  // router it went to: every name a route's `snis` lists is registered too, with the certificate it
  // would get anyway (its own, its wildcard's, or the default), so its router knows the name.
  for (const n of routeSnis) {
    if (byName.has(n)) continue;
    const dot = n.indexOf('.');
    byName.set(n, (dot > 0 ? byName.get('*' + n.slice(dot)) : undefined) ?? options);
  }
  const names = [...byName].map(([name, o]) => ({ name, options: o, sni: routeSnis.has(name) ? name : '' }));
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { addresses, options, names };
}

export class TlsListeners {
  readonly #uws: UwsModule;
  #current: Generation | null = null;
  #signature = '';
  /** Every app ever built: closed only when the worker exits (their connections live on). */
  readonly #apps: TemplatedApp[] = [];

  constructor(uws: UwsModule) {
    this.#uws = uws;
  }

  /**
   * Serves the snapshot's TLS material: on the first call listens (an error message when an
   * address cannot be bound), later builds a new generation only when the material changed.
   * `addresses` are the ones bound at start: proxy_listen changes need a restart.
   */
  apply(snapshot: WorkerSnapshot, addresses: ListenAddress[]): string | null {
    const plan = planOf(snapshot, addresses);
    if (plan === null) return null;
    const signature = JSON.stringify(plan);
    if (signature === this.#signature) return null;
    const app = this.#uws.SSLApp(plan.options);
    attachProxyHandlers(app, true);
    for (const { name, options, sni } of plan.names) {
      app.addServerName(name, options);
      // uWS routes a connection with this name through the name's own router: give it the handler.
      app.domain(name);
      attachProxyHandlers(app, true, sni);
    }
    const sockets: ListenSocket[] = [];
    for (const { host, port } of plan.addresses) {
      let sock: ListenSocket | false = false;
      app.listen(host, port, (s) => (sock = s));
      if (sock === false) {
        for (const s of sockets) this.#uws.us_listen_socket_close(s);
        app.close?.();
        return `cannot listen on ${formatAddress({ host, port })} (ssl)`;
      }
      sockets.push(sock);
    }
    // The new sockets accept before the old close: no moment without a TLS listener.
    if (this.#current !== null) for (const s of this.#current.sockets) this.#uws.us_listen_socket_close(s);
    this.#current = { app, sockets };
    this.#apps.push(app);
    this.#signature = signature;
    return null;
  }

  /** Stops accepting (drain): connections open keep being served. */
  closeListeners(): void {
    if (this.#current === null) return;
    for (const s of this.#current.sockets) this.#uws.us_listen_socket_close(s);
    this.#current.sockets = [];
  }

  /** At exit: uWS must close its apps before the process ends. */
  closeAll(): void {
    for (const app of this.#apps) app.close?.();
  }
}
