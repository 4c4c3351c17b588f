/**
 * Request metrics in shared memory (REGION.METRICS): each worker counts into its own block, the
 * primary reads every block at scrape time and sums. No message per request, no lock between
 * processes: a block has exactly one writer.
 *
 *   region word 0        1             2            3       4            5          6 .. 15
 *   +---------------+-------------+------------+-------+------------+------------+---------+
 *   | blocks (one   | status rows | route rows | flags | words per  | words per  | reserved|
 *   | per worker)   | per block   | per block  |       | block      | route row  |         |
 *   +---------------+-------------+------------+-------+------------+------------+---------+
 *   word 16: block 0, then block 1 …
 *
 *   block word 0             1                2               3 .. 15
 *   +----------------------+----------------+---------------+----------+
 *   | status rows used     | route rows used| dropped reqs  | reserved |
 *   +----------------------+----------------+---------------+----------+
 *   then `status rows` status rows, then `route rows` route rows
 *
 *   status row (16 words = one cache line), one per (service, route, consumer, code, source):
 *   0 ..  3      4 .. 7     8 .. 11       12                13    14 .. 15
 *   +----------+----------+-------------+-----------------+-----+-----------------+
 *   | service  | route    | consumer    | code | source<<16| seq | requests (f64)  |
 *   | uuid     | uuid     | uuid (0: —) |                 |     |                 |
 *   +----------+----------+-------------+-----------------+-----+-----------------+
 *
 *   route row, one per (service, route, consumer):
 *   0 .. 11: the three uuids   12: seq   13 .. 15: reserved   16 …: f64 values (ROUTE_VALUES)
 *     ingress bytes, egress bytes,
 *     kong_kong_latency_ms: one slot per bucket, +Inf, sum      (non-cumulative: summed at scrape)
 *     kong_upstream_latency_ms: same, kong_request_latency_ms: same,
 *     when FLAG_KONG2: kong_latency (Kong 2.x) request, upstream, kong: same with 2.x buckets
 *
 * Series are keyed by entity id, never by position in a snapshot or by name: a reload that
 * reorders, renames or adds entities keeps every series where it was, and the primary resolves
 * ids to Kong's label values (name, else host/id) when it scrapes. The key words are written
 * before `rows used` is raised (Atomics), so a reader that sees a row sees its key.
 *
 * Values are float64 (exact integers up to 2^53). A row's values change under its own seqlock
 * (`seq` odd while the worker writes): a reader copies the row and retries when `seq` moved, so
 * no value is ever read torn, whatever the hardware does with 8-byte stores. A worker killed in
 * the middle of a write leaves `seq` odd: the reader gives up retrying after a bound and takes
 * what is there (one request's update at most is then partial, never a torn number).
 */
import { region, REGION, type Segment } from './shm';

/** Kong 3.x buckets (kong/plugins/prometheus/exporter.lua). */
export const KONG_LATENCY_BUCKETS = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 3000, 6000] as const;
export const UPSTREAM_LATENCY_BUCKETS = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000] as const;
/** Kong 2.x's DEFAULT_BUCKETS of `kong_latency{type}`. */
export const KONG2_LATENCY_BUCKETS = [1, 2, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 1000, 2000, 5000, 10000, 30000, 60000] as const;

export const HEADER_WORDS = 16;
export const BLOCK_HEADER_WORDS = 16;
export const STATUS_ROW_WORDS = 16;
const ROW_SEQ = 12;
const STATUS_CODE = 12;
const STATUS_SEQ = 13;
const STATUS_COUNT_F64 = 7; // words 14..15
const ROUTE_VALUES_WORD = 16;
export const FLAG_KONG2 = 1;

const BLOCKS = 0, STATUS_ROWS = 1, ROUTE_ROWS = 2, FLAGS = 3, BLOCK_WORDS = 4, ROUTE_ROW_WORDS = 5;
const USED_STATUS = 0, USED_ROUTE = 1, DROPPED = 2;

/** Offsets (in f64 values) inside a route row's values. */
export const INGRESS = 0;
export const EGRESS = 1;
const histSlots = (buckets: readonly number[]): number => buckets.length + 2; // buckets, +Inf, sum
export const KONG_HIST = 2;
export const UPSTREAM_HIST = KONG_HIST + histSlots(KONG_LATENCY_BUCKETS);
export const REQUEST_HIST = UPSTREAM_HIST + histSlots(UPSTREAM_LATENCY_BUCKETS);
export const KONG2_REQUEST_HIST = REQUEST_HIST + histSlots(UPSTREAM_LATENCY_BUCKETS);
export const KONG2_UPSTREAM_HIST = KONG2_REQUEST_HIST + histSlots(KONG2_LATENCY_BUCKETS);
export const KONG2_KONG_HIST = KONG2_UPSTREAM_HIST + histSlots(KONG2_LATENCY_BUCKETS);
const VALUES_3X = KONG2_REQUEST_HIST;
const VALUES_ALL = KONG2_KONG_HIST + histSlots(KONG2_LATENCY_BUCKETS);

export const SOURCE = { SERVICE: 0, KONG: 1 } as const;

export interface MetricsLayout {
  blocks: number;
  statusRows: number;
  routeRows: number;
  kong2: boolean;
}

function routeRowWords(kong2: boolean): number {
  // Rows stay a whole number of cache lines (and 8-byte aligned for the f64 view).
  return Math.ceil((ROUTE_VALUES_WORD + 2 * (kong2 ? VALUES_ALL : VALUES_3X)) / 16) * 16;
}

function blockWords(l: MetricsLayout): number {
  return BLOCK_HEADER_WORDS + l.statusRows * STATUS_ROW_WORDS + l.routeRows * routeRowWords(l.kong2);
}

/** The region's size for primary/shm-plan.ts. */
export function metricsRegionWords(l: MetricsLayout): number {
  if (l.blocks === 0 || (l.statusRows === 0 && l.routeRows === 0)) return 0;
  return HEADER_WORDS + l.blocks * blockWords(l);
}

/** Primary, once after creating the segment: stamps the layout the workers will read. */
export function initMetricsRegion(seg: Segment, l: MetricsLayout): void {
  const w = region(seg, REGION.METRICS);
  if (w === null) return;
  Atomics.store(w, STATUS_ROWS, l.statusRows);
  Atomics.store(w, ROUTE_ROWS, l.routeRows);
  Atomics.store(w, FLAGS, l.kong2 ? FLAG_KONG2 : 0);
  Atomics.store(w, BLOCK_WORDS, blockWords(l));
  Atomics.store(w, ROUTE_ROW_WORDS, routeRowWords(l.kong2));
  Atomics.store(w, BLOCKS, l.blocks); // last: a layout with blocks is complete
}

interface View {
  w: Int32Array;
  f: Float64Array;
  blocks: number;
  statusRows: number;
  routeRows: number;
  flags: number;
  blockWords: number;
  routeRowWords: number;
}

function view(seg: Segment): View | null {
  const w = region(seg, REGION.METRICS);
  if (w === null || Atomics.load(w, BLOCKS) === 0) return null;
  if (w.byteOffset % 8 !== 0) throw new Error('metrics region is not 8-byte aligned');
  return {
    w,
    f: new Float64Array(w.buffer, w.byteOffset, w.length >> 1),
    blocks: Atomics.load(w, BLOCKS),
    statusRows: Atomics.load(w, STATUS_ROWS),
    routeRows: Atomics.load(w, ROUTE_ROWS),
    flags: Atomics.load(w, FLAGS),
    blockWords: Atomics.load(w, BLOCK_WORDS),
    routeRowWords: Atomics.load(w, ROUTE_ROW_WORDS),
  };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A uuid into 4 words (all zero for null: "no such entity"). */
function writeUuid(w: Int32Array, at: number, id: string | null): void {
  if (id === null || !UUID_RE.test(id)) {
    for (let i = 0; i < 4; i++) Atomics.store(w, at + i, 0);
    return;
  }
  const hex = id.replace(/-/g, '');
  for (let i = 0; i < 4; i++) Atomics.store(w, at + i, parseInt(hex.slice(i * 8, i * 8 + 8), 16) | 0);
}

function readUuid(w: Int32Array, at: number): string | null {
  let hex = '';
  let zero = true;
  for (let i = 0; i < 4; i++) {
    const v = Atomics.load(w, at + i);
    if (v !== 0) zero = false;
    hex += (v >>> 0).toString(16).padStart(8, '0');
  }
  if (zero) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

interface Leaf {
  routeRow: number;
  /** code * 2 + source → status row */
  status: Map<number, number>;
}

const EMPTY_KEY = '';

function bucketIndex(buckets: readonly number[], v: number): number {
  for (let i = 0; i < buckets.length; i++) if (v <= buckets[i]) return i;
  return buckets.length;
}

/**
 * A worker's writer over its own block. Lookups go route id → service id → consumer id through
 * Maps of the snapshot's own strings (no key is built per request); a row is claimed the first
 * time its series is seen and kept for the worker's life.
 */
export class WorkerMetrics {
  readonly #v: View;
  readonly #base: number;
  readonly #index = new Map<string, Map<string, Map<string, Leaf>>>();
  readonly kong2: boolean;

  constructor(v: View, worker: number) {
    this.#v = v;
    this.#base = HEADER_WORDS + worker * v.blockWords;
    this.kong2 = (v.flags & FLAG_KONG2) !== 0;
  }

  #leaf(service: string | null, route: string | null, consumer: string | null): Leaf {
    let byService = this.#index.get(route ?? EMPTY_KEY);
    if (byService === undefined) this.#index.set(route ?? EMPTY_KEY, (byService = new Map()));
    let byConsumer = byService.get(service ?? EMPTY_KEY);
    if (byConsumer === undefined) byService.set(service ?? EMPTY_KEY, (byConsumer = new Map()));
    let leaf = byConsumer.get(consumer ?? EMPTY_KEY);
    if (leaf === undefined) byConsumer.set(consumer ?? EMPTY_KEY, (leaf = { routeRow: -1, status: new Map() }));
    return leaf;
  }

  #claim(kind: 'status' | 'route', service: string | null, route: string | null, consumer: string | null): number {
    const v = this.#v;
    const usedAt = this.#base + (kind === 'status' ? USED_STATUS : USED_ROUTE);
    const used = Atomics.load(v.w, usedAt);
    if (used >= (kind === 'status' ? v.statusRows : v.routeRows)) return -1;
    const row = this.#rowWord(kind, used);
    writeUuid(v.w, row, service);
    writeUuid(v.w, row + 4, route);
    writeUuid(v.w, row + 8, consumer);
    return used;
  }

  #rowWord(kind: 'status' | 'route', i: number): number {
    const statusStart = this.#base + BLOCK_HEADER_WORDS;
    return kind === 'status' ? statusStart + i * STATUS_ROW_WORDS : statusStart + this.#v.statusRows * STATUS_ROW_WORDS + i * this.#v.routeRowWords;
  }

  /** One request: its status row (code, source) unless `code` is 0. */
  countStatus(service: string | null, route: string | null, consumer: string | null, code: number, source: number): void {
    const leaf = this.#leaf(service, route, consumer);
    const key = code * 2 + source;
    let i = leaf.status.get(key);
    if (i === undefined) {
      i = this.#claim('status', service, route, consumer);
      if (i >= 0) {
        const row = this.#rowWord('status', i);
        Atomics.store(this.#v.w, row + STATUS_CODE, code | (source << 16));
        Atomics.store(this.#v.w, this.#base + USED_STATUS, i + 1);
      }
      leaf.status.set(key, i);
    }
    if (i < 0) {
      Atomics.add(this.#v.w, this.#base + DROPPED, 1);
      return;
    }
    const row = this.#rowWord('status', i);
    const w = this.#v.w;
    Atomics.add(w, row + STATUS_SEQ, 1);
    this.#v.f[(row >> 1) + STATUS_COUNT_F64] += 1;
    Atomics.add(w, row + STATUS_SEQ, 1);
  }

  /**
   * Bandwidth and latencies of one request. A latency below 0 is not observed (Kong skips a
   * missing one: no upstream latency for a request the gateway answered itself).
   */
  observe(service: string | null, route: string | null, consumer: string | null,
    ingress: number, egress: number, kongMs: number, upstreamMs: number, requestMs: number, latency: boolean): void {
    const leaf = this.#leaf(service, route, consumer);
    let i = leaf.routeRow;
    if (i === -1) {
      i = this.#claim('route', service, route, consumer);
      if (i >= 0) Atomics.store(this.#v.w, this.#base + USED_ROUTE, i + 1);
      leaf.routeRow = i < 0 ? -2 : i;
    }
    if (i < 0) return;
    const row = this.#rowWord('route', i);
    const w = this.#v.w;
    const f = this.#v.f;
    const at = (row + ROUTE_VALUES_WORD) >> 1;
    Atomics.add(w, row + ROW_SEQ, 1);
    if (ingress > 0) f[at + INGRESS] += ingress;
    if (egress > 0) f[at + EGRESS] += egress;
    if (latency) {
      if (kongMs >= 0) hist(f, at + KONG_HIST, KONG_LATENCY_BUCKETS, kongMs);
      if (upstreamMs >= 0) hist(f, at + UPSTREAM_HIST, UPSTREAM_LATENCY_BUCKETS, upstreamMs);
      if (requestMs >= 0) hist(f, at + REQUEST_HIST, UPSTREAM_LATENCY_BUCKETS, requestMs);
      if (this.kong2) {
        if (requestMs >= 0) hist(f, at + KONG2_REQUEST_HIST, KONG2_LATENCY_BUCKETS, requestMs);
        if (upstreamMs >= 0) hist(f, at + KONG2_UPSTREAM_HIST, KONG2_LATENCY_BUCKETS, upstreamMs);
        if (kongMs >= 0) hist(f, at + KONG2_KONG_HIST, KONG2_LATENCY_BUCKETS, kongMs);
      }
    }
    Atomics.add(w, row + ROW_SEQ, 1);
  }
}

function hist(f: Float64Array, at: number, buckets: readonly number[], v: number): void {
  f[at + bucketIndex(buckets, v)] += 1;
  f[at + buckets.length + 1] += v;
}

/** Worker: the writer over its block, or null when the primary made no metrics region. */
export function openWorkerMetrics(seg: Segment, worker: number): WorkerMetrics | null {
  const v = view(seg);
  if (v === null || worker < 0 || worker >= v.blocks) return null;
  return new WorkerMetrics(v, worker);
}

// ---- the primary's side ---------------------------------------------------------------------

export interface StatusSeries { service: string | null; route: string | null; consumer: string | null; code: number; source: number; count: number }
export interface RouteSeries { service: string | null; route: string | null; consumer: string | null; values: Float64Array }

export interface BlockRead {
  status: StatusSeries[];
  routes: RouteSeries[];
  dropped: number;
}

const SPINS = 1000;

/** Copies `n` f64 values of a row under its seqlock. */
function copyRow(v: View, row: number, seqAt: number, first: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let t = 0; ; t++) {
    const s1 = Atomics.load(v.w, seqAt);
    for (let k = 0; k < n; k++) out[k] = v.f[first + k];
    const s2 = Atomics.load(v.w, seqAt);
    // Give up after SPINS: only a worker killed mid-write leaves `seq` odd for good.
    if ((s1 === s2 && (s1 & 1) === 0) || t >= SPINS) return out;
  }
}

/** Values per route row (the f64 count) for a segment's layout: for the primary's sums. */
export function routeValueCount(seg: Segment): number {
  const v = view(seg);
  return v === null ? 0 : (v.flags & FLAG_KONG2) !== 0 ? VALUES_ALL : VALUES_3X;
}

/** Primary: one worker's block, as series keyed by entity ids. */
export function readMetricsBlock(seg: Segment, worker: number): BlockRead {
  const v = view(seg);
  if (v === null || worker < 0 || worker >= v.blocks) return { status: [], routes: [], dropped: 0 };
  const base = HEADER_WORDS + worker * v.blockWords;
  const status: StatusSeries[] = [];
  const routes: RouteSeries[] = [];
  const nStatus = Math.min(Atomics.load(v.w, base + USED_STATUS), v.statusRows);
  const nRoute = Math.min(Atomics.load(v.w, base + USED_ROUTE), v.routeRows);
  const statusStart = base + BLOCK_HEADER_WORDS;
  for (let i = 0; i < nStatus; i++) {
    const row = statusStart + i * STATUS_ROW_WORDS;
    const cs = Atomics.load(v.w, row + STATUS_CODE);
    const count = copyRow(v, row, row + STATUS_SEQ, (row >> 1) + STATUS_COUNT_F64, 1)[0];
    status.push({ service: readUuid(v.w, row), route: readUuid(v.w, row + 4), consumer: readUuid(v.w, row + 8), code: cs & 0xffff, source: cs >>> 16, count });
  }
  const routeStart = statusStart + v.statusRows * STATUS_ROW_WORDS;
  const n = (v.flags & FLAG_KONG2) !== 0 ? VALUES_ALL : VALUES_3X;
  for (let i = 0; i < nRoute; i++) {
    const row = routeStart + i * v.routeRowWords;
    routes.push({
      service: readUuid(v.w, row), route: readUuid(v.w, row + 4), consumer: readUuid(v.w, row + 8),
      values: copyRow(v, row, row + ROW_SEQ, (row + ROUTE_VALUES_WORD) >> 1, n),
    });
  }
  return { status, routes, dropped: Atomics.load(v.w, base + DROPPED) };
}

/** Primary, before it forks a worker into `worker`'s block (after it folded the old values). */
export function clearMetricsBlock(seg: Segment, worker: number): void {
  const v = view(seg);
  if (v === null || worker < 0 || worker >= v.blocks) return;
  const base = HEADER_WORDS + worker * v.blockWords;
  for (let i = base; i < base + v.blockWords; i++) Atomics.store(v.w, i, 0);
}

