/**
 * Plain objects built from a key list and a value list, each key sequence by a constructor of its
 * own. A config load makes hundreds of thousands of records (the parser's mappings, the validated
 * copies, an entry's refs and resolved indexes) with a handful of distinct key sequences. Built as
 * `{}` plus one keyed store per key, each record had V8's default 4 in-object fields and then an
 * out-of-object property array; past 16 keys (a route's 22 fields) it became a dictionary. A
 * constructor `this["a"] = v[0]; this["b"] = v[1]` per sequence gives objects with their fields
 * in the object, sized to the sequence. (An object literal per sequence does that too, but V8
 * pretenured those literals' objects, and the load was slower: 957 against 821 ms of validate,
 * best of 6 on this VM.)
 *
 * The result is the object the keyed stores made: the same keys in the same order, the same
 * values, Object.prototype as its prototype. Key lists that a constructor would store differently
 * (`__proto__`, array indices, which JS orders first anyway) and lists past the cache's limits are
 * built with keyed stores.
 */

type Factory = (vals: readonly unknown[]) => Record<string, unknown>;

interface ShapeNode {
  next: Map<string, ShapeNode> | undefined;
  make: Factory | null | undefined;
}

/** Most key sequences one cache compiles a literal for (a config holds a few dozen). */
const MAX_SHAPES = 512;
/** Longest key sequence given its own literal. */
const MAX_KEYS = 64;
/** A key a literal would not define as an own, ordered string property. */
const SPECIAL_KEY = /^(?:__proto__|0|[1-9][0-9]*)$/;

function byStores(keys: readonly string[], vals: readonly unknown[], n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) out[keys[i]] = vals[i];
  return out;
}

function compile(keys: readonly string[], n: number): Factory | null {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    if (SPECIAL_KEY.test(keys[i])) return null;
    parts.push(`this[${JSON.stringify(keys[i])}] = v[${i}];`);
  }
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const Shape = new Function('v', parts.join('\n')) as unknown as new (v: readonly unknown[]) => Record<string, unknown>;
  // Its objects are plain ones: Object.prototype is their prototype, as `{}`'s.
  Shape.prototype = Object.prototype;
  return (v) => new Shape(v);
}

export class ShapeCache {
  private readonly root: ShapeNode = { next: undefined, make: undefined };
  private shapes = 0;

  /** `{ [keys[0]]: vals[0], … }` over the first n pairs; the keys are distinct. */
  build(keys: readonly string[], vals: readonly unknown[], n: number): Record<string, unknown> {
    if (n > MAX_KEYS) return byStores(keys, vals, n);
    let node = this.root;
    for (let i = 0; i < n; i++) {
      let next = node.next?.get(keys[i]);
      if (next === undefined) {
        if (this.shapes >= MAX_SHAPES) return byStores(keys, vals, n);
        next = { next: undefined, make: undefined };
        (node.next ??= new Map()).set(keys[i], next);
      }
      node = next;
    }
    let make = node.make;
    if (make === undefined) {
      if (this.shapes >= MAX_SHAPES) return byStores(keys, vals, n);
      this.shapes++;
      make = node.make = compile(keys, n);
    }
    return make === null ? byStores(keys, vals, n) : make(vals);
  }

  /** The builder of one fixed key list (an entity's foreign keys): `build` without the lookup. */
  factory(keys: readonly string[]): Factory {
    const list = keys.slice();
    const make = list.length <= MAX_KEYS ? compile(list, list.length) : null;
    return make ?? ((vals) => byStores(list, vals, list.length));
  }
}
