/**
 * Radix-tree node over prefix paths (after find-my-way's lib/node.js). Each node holds an edge
 * label; children are found by the char code of their label's first character, so a lookup never
 * creates a string. Fanouts stay small in practice, so a short linear scan over an int array
 * beats hashing; a node switches to a Map once it has many children.
 */
import type { CompiledRoute, RouteMatch } from './types';
import { HostIndex } from './host-index';

/**
 * One path of a sub-route, stored at the node where its prefix ends. A prefix path is stored at
 * its own end; a regex path at the end of its literal prefix (`~/users/\d+` at `/users/`), so it
 * is only tried for paths that can match it; a pathless sub-route at the root.
 */
export interface TreeEntry {
  /** Evaluation order: sub-route rank, then path order inside the sub-route. Unique. */
  readonly key: number;
  readonly route: CompiledRoute;
  /** Start-anchored regex of a regex path; null for prefix paths and pathless sub-routes. */
  readonly regex: RegExp | null;
  /**
   * For prefix paths and pathless sub-routes: the result, shared by every lookup that matches
   * this (route, path), which is what makes a prefix hit allocation-free. null for regexes.
   */
  readonly match: RouteMatch | null;
}

const LINEAR_LIMIT = 12;

export class RadixNode {
  /** The part of the path this edge consumes. */
  label: string;
  /** Entries stored here, sorted by key (best first); null when none. */
  entries: TreeEntry[] | null = null;
  /** `entries` split by host when many of them have hosts (host-index.ts); null otherwise. */
  hostIndex: HostIndex | null = null;
  #codes: number[] = [];
  #kids: RadixNode[] = [];
  #map: Map<number, RadixNode> | null = null;

  constructor(label: string) {
    this.label = label;
  }

  childFor(code: number): RadixNode | undefined {
    if (this.#map !== null) return this.#map.get(code);
    const codes = this.#codes;
    for (let i = 0; i < codes.length; i++) {
      if (codes[i] === code) return this.#kids[i];
    }
    return undefined;
  }

  /** Adds or replaces the child whose label starts with `child.label[0]`. */
  setChild(child: RadixNode): void {
    const code = child.label.charCodeAt(0);
    if (this.#map !== null) {
      this.#map.set(code, child);
      return;
    }
    const at = this.#codes.indexOf(code);
    if (at !== -1) {
      this.#kids[at] = child;
      return;
    }
    this.#codes.push(code);
    this.#kids.push(child);
    if (this.#codes.length > LINEAR_LIMIT) {
      this.#map = new Map();
      for (let i = 0; i < this.#codes.length; i++) this.#map.set(this.#codes[i], this.#kids[i]);
    }
  }

  children(): RadixNode[] {
    return this.#map !== null ? [...this.#map.values()] : this.#kids.slice();
  }

  /** Inserts `path` below this node (this node's own label is already consumed). */
  insert(path: string, entry: TreeEntry): void {
    let node: RadixNode = this;
    let i = 0;
    for (;;) {
      if (i === path.length) {
        node.addEntry(entry);
        return;
      }
      const child = node.childFor(path.charCodeAt(i));
      if (child === undefined) {
        const leaf = new RadixNode(path.slice(i));
        leaf.addEntry(entry);
        node.setChild(leaf);
        return;
      }
      const label = child.label;
      let l = 1;
      while (l < label.length && i + l < path.length && label.charCodeAt(l) === path.charCodeAt(i + l)) l++;
      if (l < label.length) {
        const mid = new RadixNode(label.slice(0, l));
        child.label = label.slice(l);
        mid.setChild(child);
        node.setChild(mid);
        node = mid;
      } else {
        node = child;
      }
      i += l;
    }
  }

  addEntry(entry: TreeEntry): void {
    if (this.entries === null) this.entries = [];
    const list = this.entries;
    let at = list.length;
    while (at > 0 && list[at - 1].key > entry.key) at--;
    list.splice(at, 0, entry);
  }

  /** Builds the host index of this node and every node below (once the tree is complete). */
  indexHosts(): void {
    if (this.entries !== null) this.hostIndex = HostIndex.build(this.entries);
    for (const c of this.children()) c.indexHosts();
  }

  /** Largest number of lists stacked on any root-to-leaf walk: the match stack's size. */
  entryDepth(): number {
    let deepest = 0;
    for (const c of this.children()) deepest = Math.max(deepest, c.entryDepth());
    return deepest + (this.hostIndex !== null ? this.hostIndex.width : this.entries !== null ? 1 : 0);
  }
}
