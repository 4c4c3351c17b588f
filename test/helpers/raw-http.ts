import { connect } from 'node:net';

export interface RawResponse {
  /** Everything the server sent before the socket closed or the wait ended. */
  data: Buffer;
  /** Status code of the first response, or null if none arrived. */
  status: number | null;
  /** Header names lowercased; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
  /** True when the server closed the connection (FIN or RST) within the wait. */
  closed: boolean;
  /** True when a complete response (by Content-Length or chunked framing) was read. */
  complete: boolean;
}

/**
 * Writes `payload` on a new TCP connection and reads what comes back. With `until: 'close'` it waits
 * for the server to close the socket; with `until: 'response'` it stops after one complete response.
 * Either way it gives up after `timeoutMs` and reports what it had (closed=false).
 */
export function rawExchange(
  port: number,
  payload: string | Buffer,
  { until = 'close', timeoutMs = 3000, host = '127.0.0.1' }: { until?: 'close' | 'response'; timeoutMs?: number; host?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect({ port, host });
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...parseRawResponse(Buffer.concat(chunks)), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      if (until === 'response' && parseRawResponse(Buffer.concat(chunks)).complete) finish(false);
    });
    // A reset after a 400 is a legitimate way to close; it still counts as closed.
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish(true);
      else if (!done) {
        done = true;
        clearTimeout(timer);
        reject(err);
      }
    });
    sock.on('close', () => finish(true));
  });
}

/** `Name: value` lines as a record: names lowercased, repeated names joined with ', ', lines without a name skipped. */
export function headerFields(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return headers;
}

export function parseRawResponse(data: Buffer): Omit<RawResponse, 'closed'> {
  const empty = { data, status: null, headers: {}, body: Buffer.alloc(0), complete: false };
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.toString('latin1'));
    return { ...empty, status: m ? Number(m[1]) : null };
  }
  const lines = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  const headers = headerFields(lines.slice(1));
  const rest = data.subarray(headEnd + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const { body, complete } = dechunk(rest);
    return { data, status: m ? Number(m[1]) : null, headers, body, complete };
  }
  const cl = headers['content-length'] === undefined ? 0 : Number(headers['content-length']);
  return { data, status: m ? Number(m[1]) : null, headers, body: rest.subarray(0, cl), complete: rest.length >= cl };
}

/** Decodes a chunked body; `complete` once the zero-size chunk and the final CRLF arrived. */
export function dechunk(buf: Buffer): { body: Buffer; complete: boolean; consumed: number } {
  const parts: Buffer[] = [];
  let off = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', off);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(off, eol).toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) break;
    if (size === 0) {
      // Trailers (if any) end with an empty line.
      const end = buf.indexOf('\r\n\r\n', eol);
      if (end < 0) break;
      return { body: Buffer.concat(parts), complete: true, consumed: end + 4 };
    }
    if (buf.length < eol + 2 + size + 2) break;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    off = eol + 2 + size + 2;
  }
  return { body: Buffer.concat(parts), complete: false, consumed: 0 };
}

/** A raw connection whose replies are read when the test decides: an absent answer has no event to await. */
export interface RawConn {
  data(): Buffer;
  closed(): boolean;
  destroy(): void;
}

export function openRaw(port: number, payload: string): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closed = false;
    const sock = connect({ port, host: '127.0.0.1' }, () => {
      sock.write(payload, () => resolve({ data: () => Buffer.concat(chunks), closed: () => closed, destroy: () => sock.destroy() }));
    });
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => undefined);
    sock.on('close', () => (closed = true));
    sock.once('error', reject);
  });
}
