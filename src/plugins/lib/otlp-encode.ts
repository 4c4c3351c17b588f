/**
 * A protobuf encoder for the one message Hyperway sends to an OTLP/HTTP collector:
 * opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest (field numbers from the
 * official opentelemetry-proto trace/v1, common/v1 and resource/v1 files). Spans are encoded
 * one by one when a request ends (a few hundred bytes each); a batch is the precomputed
 * resource and scope bytes plus the spans' bytes, framed with their lengths, so an export
 * copies bytes and encodes nothing. Sizes are computed before writing: no second pass, no
 * growing buffers.
 */

/** An attribute value: string, boolean, integer (int64 as a JS number) or double. */
export type AttrValue = string | boolean | number;
/** Flat [key, value, key, value, …]; a number that is not an integer is sent as a double. */
export type Attrs = AttrValue[];

export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;
export const STATUS_CODE = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface SpanData {
  /** 16 bytes. */
  traceId: Buffer;
  /** 8 bytes. */
  spanId: Buffer;
  /** 8 bytes, or null for a root span. */
  parentSpanId: Buffer | null;
  traceState: string;
  name: string;
  kind: number;
  /** Unix epoch in milliseconds (fractions kept to the microsecond). */
  startMs: number;
  endMs: number;
  attributes: Attrs;
  statusCode: number;
  /** W3C trace flags (bit 0: sampled), Span.flags low byte. */
  flags: number;
}

// ---- sizes ------------------------------------------------------------------------------------

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** A length-delimited field: tag, length, payload (fields below 16 have one-byte tags). */
function ldSize(len: number): number {
  return 1 + varintSize(len) + len;
}

function anyValueSize(v: AttrValue): number {
  if (typeof v === 'string') return ldSize(Buffer.byteLength(v));
  if (typeof v === 'boolean') return 2;
  if (Number.isInteger(v)) return 1 + (v < 0 ? 10 : varintSize(v));
  return 9;
}

function keyValueSize(k: string, v: AttrValue): number {
  return ldSize(Buffer.byteLength(k)) + ldSize(anyValueSize(v));
}

function attrsSize(attrs: Attrs): number {
  let size = 0;
  for (let i = 0; i < attrs.length; i += 2) size += ldSize(keyValueSize(attrs[i] as string, attrs[i + 1]));
  return size;
}

// ---- the writer -------------------------------------------------------------------------------

class Writer {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  ld(field: number, len: number): void {
    this.tag(field, 2);
    this.varint(len);
  }

  bytes(field: number, b: Buffer): void {
    this.ld(field, b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  string(field: number, s: string): void {
    const len = Buffer.byteLength(s);
    this.ld(field, len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  /** int64 varint; a negative value takes ten bytes (two's complement), as protobuf encodes it. */
  int64(field: number, n: number): void {
    this.tag(field, 0);
    if (n >= 0) {
      this.varint(n);
      return;
    }
    let v = BigInt.asUintN(64, BigInt(n));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  fixed64Ms(field: number, ms: number): void {
    this.tag(field, 1);
    // Epoch nanoseconds exceed 2^53: microseconds are exact in a double, the rest in a BigInt.
    this.buf.writeBigUInt64LE(BigInt(Math.round(ms * 1000)) * 1000n, this.pos);
    this.pos += 8;
  }

  fixed32(field: number, n: number): void {
    this.tag(field, 5);
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4;
  }

  double(field: number, n: number): void {
    this.tag(field, 1);
    this.buf.writeDoubleLE(n, this.pos);
    this.pos += 8;
  }

  attrs(field: number, attrs: Attrs): void {
    for (let i = 0; i < attrs.length; i += 2) {
      const k = attrs[i] as string;
      const v = attrs[i + 1];
      this.ld(field, keyValueSize(k, v));
      this.string(1, k);
      this.ld(2, anyValueSize(v));
      if (typeof v === 'string') this.string(1, v);
      else if (typeof v === 'boolean') {
        this.tag(2, 0);
        this.buf[this.pos++] = v ? 1 : 0;
      } else if (Number.isInteger(v)) this.int64(3, v);
      else this.double(4, v);
    }
  }
}

// ---- Span -------------------------------------------------------------------------------------

function spanSize(s: SpanData): number {
  let size = ldSize(16) + ldSize(8) + ldSize(Buffer.byteLength(s.name)) + 2 + 9 + 9 + 6; // flags is field 16: a two-byte tag
  if (s.parentSpanId !== null) size += ldSize(8);
  if (s.traceState !== '') size += ldSize(Buffer.byteLength(s.traceState));
  size += attrsSize(s.attributes);
  if (s.statusCode !== 0) size += ldSize(2);
  return size;
}

/** One Span message (trace.v1.Span), unframed: a batch frames it as ScopeSpans.spans. */
export function encodeSpan(s: SpanData): Buffer {
  const w = new Writer(spanSize(s));
  w.bytes(1, s.traceId);
  w.bytes(2, s.spanId);
  if (s.traceState !== '') w.string(3, s.traceState);
  if (s.parentSpanId !== null) w.bytes(4, s.parentSpanId);
  w.string(5, s.name);
  w.tag(6, 0);
  w.varint(s.kind);
  w.fixed64Ms(7, s.startMs);
  w.fixed64Ms(8, s.endMs);
  w.attrs(9, s.attributes);
  if (s.statusCode !== 0) {
    w.ld(15, 2);
    w.tag(3, 0);
    w.varint(s.statusCode);
  }
  w.fixed32(16, s.flags & 0xff);
  return w.buf;
}

// ---- ExportTraceServiceRequest ------------------------------------------------------------------

/**
 * The fixed part of every export of one plugin configuration: the Resource (its attributes)
 * and the InstrumentationScope, encoded once.
 */
export interface ExportFrame {
  resource: Buffer;
  scope: Buffer;
}

export function exportFrame(resourceAttrs: Attrs, scopeName: string, scopeVersion: string): ExportFrame {
  const r = new Writer(attrsSize(resourceAttrs));
  r.attrs(1, resourceAttrs);
  const s = new Writer(ldSize(Buffer.byteLength(scopeName)) + ldSize(Buffer.byteLength(scopeVersion)));
  s.string(1, scopeName);
  s.string(2, scopeVersion);
  return { resource: r.buf, scope: s.buf };
}

/** ExportTraceServiceRequest { resource_spans: [{ resource, scope_spans: [{ scope, spans }] }] }. */
export function encodeExport(frame: ExportFrame, spans: readonly Buffer[]): Buffer {
  let spansSize = 0;
  for (const s of spans) spansSize += ldSize(s.length);
  const scopeSpansSize = ldSize(frame.scope.length) + spansSize;
  const resourceSpansSize = ldSize(frame.resource.length) + ldSize(scopeSpansSize);
  const w = new Writer(ldSize(resourceSpansSize));
  w.ld(1, resourceSpansSize);
  w.bytes(1, frame.resource);
  w.ld(2, scopeSpansSize);
  w.bytes(1, frame.scope);
  for (const s of spans) w.bytes(2, s);
  return w.buf;
}
