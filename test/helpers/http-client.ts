import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  method?: string;
  /** An object, or a flat [name, value, name, value…] list to send repeated or ordered headers. */
  headers?: OutgoingHttpHeaders | string[];
  body?: string | Buffer;
  timeoutMs?: number;
}

/**
 * One request on a fresh connection (no agent, so no keep-alive state leaks between tests).
 * The path is sent byte for byte as given: node does not normalize it, which the routing tests need.
 * Note that node's client upper-cases the method; send odd-cased methods with raw-http.ts.
 */
export function request(url: string, opts: RequestOptions = {}): Promise<HttpResult> {
  const u = new URL(url);
  // URL would normalize `..` and percent-encodings; keep the caller's path verbatim.
  const slash = url.indexOf('/', url.indexOf('//') + 2);
  const rawPath = slash < 0 ? '/' : url.slice(slash);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: rawPath,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error(`response aborted after ${Buffer.concat(chunks).length} bytes`)));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body,
            text,
            json<T>() {
              try {
                return JSON.parse(text) as T;
              } catch {
                throw new Error(`not JSON (status ${res.statusCode}): ${text.slice(0, 300)}`);
              }
            },
          });
        });
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10000, () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Shorthand for a JSON GET that must answer: returns status and parsed body. */
export async function getJson<T = Record<string, unknown>>(
  url: string,
  headers?: OutgoingHttpHeaders,
): Promise<{ status: number; body: T; headers: IncomingHttpHeaders }> {
  const res = await request(url, { headers });
  return { status: res.status, body: res.json<T>(), headers: res.headers };
}
