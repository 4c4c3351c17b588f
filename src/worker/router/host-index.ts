/**
 * A node's entries split by route host, for configs with many host routes (Kong's host-only
 * routes all sit at the tree's root, so without this every request walked them all in turn).
 *
 * Entries of routes whose hosts are all exact or `*.`/`.*` wildcards go into buckets keyed by
 * lowercase host text; the others (no hosts, an odd wildcard) stay in `generic`. A lookup stacks
 * generic, the bucket of the request's exact host and the buckets of each of its dot-bounded
 * suffixes and prefixes. Every bucket is sorted by key like the node's list, and match.ts merges
 * the stacked lists by key, so the first accepted candidate is the same one the whole list gives:
 * a bucket only leaves out entries whose hosts cannot match, and accepts() still checks hosts
 * (and ports) of what it finds.
 */
import type { TreeEntry } from './node';
import { HOST_EXACT, HOST_PREFIX, HOST_SUFFIX, type HostMatcher } from './types';

/** Fewer host entries than this at a node: the plain list is cheaper than the lookups. */
export const HOST_INDEX_MIN = 16;

function countDots(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 46) n++;
  return n;
}

function indexable(h: HostMatcher): boolean {
  if (h.kind === HOST_EXACT) return true;
  if (h.kind === HOST_SUFFIX) return h.text.charCodeAt(0) === 46; // `*.b.c` → `.b.c`
  return h.kind === HOST_PREFIX && h.text.charCodeAt(h.text.length - 1) === 46; // `a.*` → `a.`
}

function add(map: Map<string, TreeEntry[]>, key: string, entry: TreeEntry): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [entry]);
  else if (list[list.length - 1] !== entry) list.push(entry);
}

export class HostIndex {
  readonly #generic: TreeEntry[] = [];
  readonly #exact = new Map<string, TreeEntry[]>();
  readonly #suffix = new Map<string, TreeEntry[]>();
  readonly #prefix = new Map<string, TreeEntry[]>();
  /** Most lists one lookup stacks (generic, exact, one per matching suffix and prefix). */
  readonly width: number;

  /** `entries` sorted by key; null when too few of them have hosts to be worth an index. */
  static build(entries: readonly TreeEntry[]): HostIndex | null {
    let hosted = 0;
    for (const e of entries) if (e.route.hosts !== null && e.route.hosts.every(indexable)) hosted++;
    return hosted >= HOST_INDEX_MIN ? new HostIndex(entries) : null;
  }

  private constructor(entries: readonly TreeEntry[]) {
    let suffixDots = 0;
    let prefixDots = 0;
    for (const e of entries) {
      const hosts = e.route.hosts;
      if (hosts === null || !hosts.every(indexable)) {
        this.#generic.push(e);
        continue;
      }
      for (const h of hosts) {
        if (h.kind === HOST_EXACT) add(this.#exact, h.text, e);
        else if (h.kind === HOST_SUFFIX) {
          add(this.#suffix, h.text, e);
          suffixDots = Math.max(suffixDots, countDots(h.text));
        } else {
          add(this.#prefix, h.text, e);
          prefixDots = Math.max(prefixDots, countDots(h.text));
        }
      }
    }
    // The suffix keys a host matches are suffixes of one another, each with more dots: at most
    // `suffixDots` of them (prefixes likewise).
    this.width = 2 + suffixDots + prefixDots;
  }

  /** Stacks the lists that can hold a match for `host` (lowercase, without port) from `depth`. */
  stack(stack: (readonly TreeEntry[])[], depth: number, host: string): number {
    if (this.#generic.length > 0) stack[depth++] = this.#generic;
    const exact = this.#exact.get(host);
    if (exact !== undefined) stack[depth++] = exact;
    if (this.#suffix.size > 0) {
      for (let i = host.indexOf('.'); i !== -1; i = host.indexOf('.', i + 1)) {
        const list = this.#suffix.get(host.slice(i));
        if (list !== undefined) stack[depth++] = list;
      }
    }
    if (this.#prefix.size > 0) {
      for (let i = host.indexOf('.'); i !== -1; i = host.indexOf('.', i + 1)) {
        const list = this.#prefix.get(host.slice(0, i + 1));
        if (list !== undefined) stack[depth++] = list;
      }
    }
    return depth;
  }
}
