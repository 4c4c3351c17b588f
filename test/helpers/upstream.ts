import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { dechunk } from './raw-http';
import { startRawServer } from './raw-server';
import { listenLocal as listen } from './ports';

export { startFaultServer, startBlackholeServer, MID_BODY, type FaultMode, type FaultServer, type BlackholeServer } from './upstream-faults';
export { startLargeBodyServer, PATTERN, type LargeBodyServer } from './upstream-large';

/** What the echo server saw and answers with. */
export interface EchoRecord {
  method: string;
  url: string;
  /** As node parsed them: lowercased names, duplicates joined. */
  headers: IncomingHttpHeaders;
  /** As received on the wire: [name, value, name, value…] in order. */
  rawHeaders: string[];
  /** Filled in once the body has been read; -1 while it is still arriving. */
  body_length: number;
  server: string;
}

export interface EchoServer {
  name: string;
  port: number;
  /** Every request, recorded as soon as its head arrives (before the body and any delay). */
  requests: EchoRecord[];
  close(): Promise<void>;
}

/**
 * An HTTP upstream that answers 200 JSON describing the request. Request headers steer it:
 * `x-echo-delay: <ms>` waits before answering, `x-echo-status: <n>` sets the status,
 * `x-echo-response-headers: <JSON object>` adds response headers. It sends `Server: <name>`.
 */
export async function startEchoServer(name: string): Promise<EchoServer> {
  const requests: EchoRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const record: EchoRecord = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body_length: -1,
      server: name,
    };
    requests.push(record);
    let length = 0;
    req.on('data', (c: Buffer) => (length += c.length));
    req.on('end', () => {
      record.body_length = length;
      const answer = (): void => {
        const extra = header(req.headers, 'x-echo-response-headers');
        const extraHeaders = extra ? (JSON.parse(extra) as Record<string, string>) : {};
        const body = JSON.stringify(record);
        res.writeHead(Number(header(req.headers, 'x-echo-status') ?? 200), {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          server: name,
          ...extraHeaders,
        });
        res.end(body);
      };
      const wait = Number(header(req.headers, 'x-echo-delay') ?? 0);
      if (wait > 0) {
        const t = setTimeout(() => {
          timers.delete(t);
          answer();
        }, wait);
        timers.add(t);
      } else answer();
    });
  });
  const port = await listen(server);
  return {
    name,
    port,
    requests,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface RawEchoRecord {
  /** The request line exactly as received, e.g. `PoSt /x HTTP/1.1`. */
  requestLine: string;
  method: string;
  url: string;
  rawHeaders: string[];
  body_length: number;
}

export interface RawEchoServer {
  port: number;
  requests: RawEchoRecord[];
  close(): Promise<void>;
}

/**
 * An echo upstream on a raw socket, for what node's HTTP parser refuses or rewrites (method case).
 * Parses requests itself (Content-Length or chunked bodies), keeps connections alive, answers JSON.
 */
export async function startRawEchoServer(name: string): Promise<RawEchoServer> {
  const requests: RawEchoRecord[] = [];
  const server = await startRawServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        const parsed = parseRequest(buf);
        if (parsed === null) return;
        buf = buf.subarray(parsed.consumed);
        requests.push(parsed.record);
        const body = JSON.stringify({ ...parsed.record, server: name });
        sock.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
            `server: ${name}\r\n\r\n${body}`,
        );
      }
    });
  });
  return { port: server.port, requests, close: server.close };
}

function parseRequest(buf: Buffer): { record: RawEchoRecord; consumed: number } | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const requestLine = lines[0] ?? '';
  const [method = '', url = ''] = requestLine.split(' ');
  const rawHeaders: string[] = [];
  let contentLength = 0;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    const hName = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    rawHeaders.push(hName, value);
    if (hName.toLowerCase() === 'content-length') contentLength = Number(value);
    if (hName.toLowerCase() === 'transfer-encoding' && /chunked/i.test(value)) chunked = true;
  }
  const rest = buf.subarray(headEnd + 4);
  if (chunked) {
    const d = dechunk(rest);
    if (!d.complete) return null;
    return { record: { requestLine, method, url, rawHeaders, body_length: d.body.length }, consumed: headEnd + 4 + d.consumed };
  }
  if (rest.length < contentLength) return null;
  return { record: { requestLine, method, url, rawHeaders, body_length: contentLength }, consumed: headEnd + 4 + contentLength };
}

/** First value of a request header (node joins repeats; arrays only for set-cookie). */
export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}
