/**
 * Kong's request-transformer. Order as Kong: uri → method → headers → body → querystring, and
 * within each part remove → rename → replace (only when present) → add (only when absent) →
 * append (always adds). Values may be `$(headers.x)`, `$(query_params.y)`, `$(uri_captures.n)`
 * templates, read from the request as the client sent it.
 */
import type { PluginContext, PluginHandler } from '../types';
import { parseTemplate, splitColon, type TemplatePart } from '../lib/colon-list';
import { readForm, readJson, writeForm, writeJson, parseQuery, encodeQuery, type Pairs } from '../lib/body-codec';

interface Op { name: string; value: TemplatePart[] | string }
interface Part { remove: string[]; rename: [string, string][]; replace: Op[]; add: Op[]; append: Op[] }
interface Conf {
  method: string | null;
  uri: TemplatePart[] | string | null;
  headers: Part;
  body: Part;
  querystring: Part;
  bodyUsed: boolean;
}

/** Body transformations read at most this much (nginx's client_body_buffer_size order). */
const BODY_LIMIT = 8 * 1024 * 1024;

function op(item: string, lowerName: boolean): Op {
  const [name, v] = splitColon(item);
  return { name: lowerName ? name.toLowerCase() : name, value: parseTemplate(v) ?? v };
}

function part(config: Record<string, Record<string, unknown>>, key: string, lowerName: boolean): Part {
  const list = (op_: string): string[] => (config[op_][key] as string[] | undefined) ?? [];
  return {
    remove: list('remove').map((n) => (lowerName ? n.toLowerCase() : n)),
    rename: list('rename').map((s) => {
      const [a, b] = splitColon(s);
      return [lowerName ? a.toLowerCase() : a, lowerName ? b.toLowerCase() : b];
    }),
    replace: list('replace').map((s) => op(s, lowerName)),
    add: list('add').map((s) => op(s, lowerName)),
    append: list('append').map((s) => op(s, lowerName)),
  };
}

const empty = (p: Part): boolean => p.remove.length + p.rename.length + p.replace.length + p.add.length + p.append.length === 0;

function render(ctx: PluginContext, value: TemplatePart[] | string, clientQuery: Pairs | null): string {
  if (typeof value === 'string') return value;
  let out = '';
  for (const p of value) {
    if (typeof p === 'string') out += p;
    else if (p.from === 'headers') out += ctx.requestHeader(p.name) ?? '';
    else if (p.from === 'uri_captures') out += ctx.uriCaptures?.[p.name] ?? '';
    else {
      const v = (clientQuery ?? parseQuery(ctx.query)).find(([k]) => k === p.name);
      out += v?.[1] ?? '';
    }
  }
  return out;
}

function transformHeaders(ctx: PluginContext, p: Part, q: Pairs | null): void {
  for (const name of p.remove) ctx.removeRequestHeader(name);
  for (const [from, to] of p.rename) {
    const values = ctx.requestHeaderValues(from);
    if (values.length === 0) continue;
    ctx.removeRequestHeader(from);
    for (const v of values) ctx.addRequestHeader(to, v);
  }
  for (const o of p.replace) if (ctx.requestHeader(o.name) !== null) ctx.setRequestHeader(o.name, render(ctx, o.value, q));
  for (const o of p.add) if (ctx.requestHeader(o.name) === null && o.name !== 'host') ctx.setRequestHeader(o.name, render(ctx, o.value, q));
  for (const o of p.append) if (o.name !== 'host') ctx.addRequestHeader(o.name, render(ctx, o.value, q));
}

/** remove/rename/replace/add/append over name → value pairs (query strings, forms, JSON keys). */
function transformPairs(ctx: PluginContext, pairs: Pairs, p: Part, q: Pairs | null): Pairs {
  let out = pairs.filter(([k]) => !p.remove.includes(k));
  for (const [from, to] of p.rename) out = out.map(([k, v]) => (k === from ? [to, v] : [k, v]));
  for (const o of p.replace) if (out.some(([k]) => k === o.name)) out = out.map(([k, v]) => (k === o.name ? [k, render(ctx, o.value, q)] : [k, v]));
  for (const o of p.add) if (!out.some(([k]) => k === o.name)) out.push([o.name, render(ctx, o.value, q)]);
  for (const o of p.append) out.push([o.name, render(ctx, o.value, q)]);
  return out;
}

async function transformBody(ctx: PluginContext, conf: Conf, q: Pairs): Promise<void> {
  const type = (ctx.requestHeader('content-type') ?? '').toLowerCase();
  const isForm = type.startsWith('application/x-www-form-urlencoded');
  const isJson = type.includes('json');
  if (!isForm && !isJson) return;
  const raw = ctx.requestBodyLength === 0 ? Buffer.alloc(0) : await ctx.readRequestBody(BODY_LIMIT);
  if (isForm) {
    ctx.setRequestBody(writeForm(transformPairs(ctx, readForm(raw), conf.body, q)));
    return;
  }
  const json = readJson(raw);
  if (json === null) return; // not an object: Kong leaves it alone
  ctx.setRequestBody(writeJson(transformPairs(ctx, json, conf.body, q)));
}

export const handler: PluginHandler<Conf> = {
  name: 'request-transformer',
  priority: 801,
  version: '3.10.0',
  configure(config) {
    const c = config as Record<string, Record<string, unknown>>;
    const uri = (c.replace.uri as string | null) ?? null;
    const body = part(c, 'body', false);
    return {
      method: (config.http_method as string | null) ?? null,
      uri: uri === null ? null : (parseTemplate(uri) ?? uri),
      headers: part(c, 'headers', true),
      body,
      querystring: part(c, 'querystring', false),
      bodyUsed: !empty(body),
    };
  },
  access(ctx, conf) {
    // Templates read the client's query string, before this plugin changes it.
    const clientQuery = ctx.query === '' ? [] : parseQuery(ctx.query);
    if (conf.uri !== null) ctx.setUpstreamPath(render(ctx, conf.uri, clientQuery));
    if (conf.method !== null) ctx.setMethod(conf.method);
    transformHeaders(ctx, conf.headers, clientQuery);
    if (!empty(conf.querystring)) {
      ctx.setQuery(encodeQuery(transformPairs(ctx, clientQuery, conf.querystring, clientQuery)));
    }
    if (conf.bodyUsed) return transformBody(ctx, conf, clientQuery);
  },
};
