/**
 * The upstream's raw header Buffers as strings for header filters, and back. Only routes whose
 * plugins filter the head take this path; latin1 keeps every byte as it came.
 */
export function fromRawHeaders(raw: readonly Buffer[]): string[] {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i].toString('latin1');
  return out;
}

export function toRawHeaders(headers: readonly string[]): Buffer[] {
  const out = new Array<Buffer>(headers.length);
  for (let i = 0; i < headers.length; i++) out[i] = Buffer.from(headers[i], 'latin1');
  return out;
}
