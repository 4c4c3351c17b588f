/**
 * A real OTLP/HTTP trace receiver for tests: a node http server on loopback that decodes each
 * POST with protobufjs against the subset of the official opentelemetry-proto files below
 * (collector/trace/v1, trace/v1, common/v1, resource/v1; field numbers as published), so the
 * gateway's hand-written encoder is checked by an independent decoder.
 */
import { createServer, type Server } from 'node:http';
import * as protobuf from 'protobufjs';
import { listenLocal } from '../../helpers/ports';

export const OTLP_PROTO = `
syntax = "proto3";
package opentelemetry.proto;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message Resource {
  repeated KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}
message Status {
  string message = 2;
  int32 code = 3;
}
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  Status status = 15;
}
message ScopeSpans {
  InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}
message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

const root = protobuf.parse(OTLP_PROTO).root;
const Export = root.lookupType('opentelemetry.proto.ExportTraceServiceRequest');

export type Attr = string | number | boolean;

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, Attr>;
  statusCode: number;
  flags: number;
  resource: Record<string, Attr>;
  scope: string;
}

interface RawKv { key: string; value: { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number } }

function attrs(list: RawKv[] | undefined): Record<string, Attr> {
  const out: Record<string, Attr> = {};
  for (const kv of list ?? []) {
    const v = kv.value;
    out[kv.key] = v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue as number));
  }
  return out;
}

const hex = (b: string | undefined): string => Buffer.from(b ?? '', 'base64').toString('hex');

/** Decodes one ExportTraceServiceRequest body into flat spans (throws on malformed protobuf). */
export function decodeExport(body: Buffer): DecodedSpan[] {
  const obj = Export.toObject(Export.decode(body), { longs: String, bytes: String, defaults: false }) as {
    resourceSpans?: { resource?: { attributes?: RawKv[] }; scopeSpans?: { scope?: { name?: string }; spans?: Record<string, unknown>[] }[] }[];
  };
  const out: DecodedSpan[] = [];
  for (const rs of obj.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId as string),
          spanId: hex(s.spanId as string),
          parentSpanId: hex(s.parentSpanId as string | undefined),
          traceState: (s.traceState as string | undefined) ?? '',
          name: s.name as string,
          kind: (s.kind as number | undefined) ?? 0,
          startNs: BigInt(s.startTimeUnixNano as string),
          endNs: BigInt(s.endTimeUnixNano as string),
          attributes: attrs(s.attributes as RawKv[] | undefined),
          statusCode: (s.status as { code?: number } | undefined)?.code ?? 0,
          flags: (s.flags as number | undefined) ?? 0,
          resource,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}

export interface OtlpPost {
  path: string;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  spans: DecodedSpan[];
}

export interface OtlpReceiver {
  port: number;
  url: string;
  posts: OtlpPost[];
  spans(): DecodedSpan[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const posts: OtlpPost[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let spans: DecodedSpan[];
      try {
        spans = decodeExport(Buffer.concat(chunks));
      } catch (err) {
        res.writeHead(400).end(String(err));
        return;
      }
      posts.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', headers: req.headers, spans });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  const port = await listenLocal(server);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    posts,
    spans: () => posts.flatMap((p) => p.spans),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
