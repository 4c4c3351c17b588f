/** Kong's `typedefs.url` as the HTTP exporters (http-log, opentelemetry) check it: an http(s) URL with a host. */
export function checkHttpUrl(v: unknown): string | null {
  try {
    const u = new URL(v as string);
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : `unsupported scheme '${u.protocol.slice(0, -1)}' (http or https)`;
  } catch {
    return 'missing host in url';
  }
}
