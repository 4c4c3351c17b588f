/**
 * Consumers and the auth plugins' credentials as one flat buffer: the records, and the hash tables
 * a request looks them up by (key-auth key, basic-auth username, jwt key; consumer id and username).
 * The primary builds it once per config (the compile thread on a reload); a worker reads it where it
 * lies. A worker used to decode 100,000 consumers and their credentials into ~600,000 objects and
 * strings and index them in Maps, ~0.3 s per worker per snapshot, much of it garbage-collector time.
 * Now its build is O(1), and a lookup makes objects only for a record that matches (kept, so the
 * same consumer is the same object for the snapshot's life).
 *
 * Layout. Integers in the header, the consumer index and the tables are little-endian u32; inside
 * records they are LEB128 varints. A string is varint(UTF-8 length + 1) then its bytes; 0 is null.
 *
 *   header       HEADER words: magic, the five counts, the byte offset of each section below
 *   index        u32 per consumer: its record's byte offset (credentials, plugins and ACLs name
 *                consumers by index)
 *   consumers    id lowercased (the byId key), id (null when the same), username, customId,
 *                varint tag count + tags, varint group count + ACL groups in file order
 *   keyauth      key, id, varint consumer
 *   basicauth    username, id, passwordHash, varint consumer
 *   jwt          key, id, secret, algorithm, rsaPublicKey, varint consumer
 *   acls         varint consumer, id, group (file order; the groups are in the consumers too)
 *   5 tables     u32 capacity, then a u32 per slot: 0 empty, else consumer index + 1 (byId,
 *                byName) or record offset + 1 (keyauth, basicauth, jwt). Linear probing, at most
 *                half full; no hashes are stored: a probe compares the key's bytes.
 *
 * A table keeps the last record of a repeated key, as Map.set did. Offsets are from the buffer's
 * start, so nothing needs alignment: a worker reads the bytes where msgpackr left them.
 */
import type { ConsumerSnap, CredentialsSnap } from './snapshot';

const MAGIC = 0x32445748; // "HWD2"

// Header words.
const H_MAGIC = 0;
const H_CONSUMERS = 1;
const H_KEYAUTH = 2;
const H_BASICAUTH = 3;
const H_JWT = 4;
const H_ACLS = 5;
const H_INDEX_AT = 6;
const H_KEYAUTH_AT = 7;
const H_BASICAUTH_AT = 8;
const H_JWT_AT = 9;
const H_ACLS_AT = 10;
const H_TABLES_AT = 11;
const H_END = 12;
const HEADER = 13;

const T_BY_ID = 0;
const T_BY_NAME = 1;
const T_KEYAUTH = 2;
const T_BASICAUTH = 3;
const T_JWT = 4;
const TABLES = 5;

export interface KeyAuthCredential { id: string; key: string; consumer: ConsumerSnap }
export interface BasicAuthCredential { id: string; username: string; passwordHash: string; consumer: ConsumerSnap }
export interface JwtCredential {
  id: string;
  key: string;
  secret: string | null;
  algorithm: string;
  rsaPublicKey: string | null;
  consumer: ConsumerSnap;
}

const NO_CREDENTIALS: CredentialsSnap = { keyauth: [], basicauth: [], jwt: [], acls: [] };

/** ES2024's String methods (Node 20 has them; the ES2022 lib does not declare them). */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * `s` as its UTF-8 bytes read back: a lone surrogate (a JSON or YAML `\ud800` escape) becomes
 * U+FFFD, as the directory stores it. Both sides hash and compare this form, so such a string
 * still finds itself.
 */
function wellFormed(s: string): string {
  const w = s as unknown as WellFormed;
  return w.isWellFormed() ? s : w.toWellFormed();
}

/** FNV-1a over UTF-16 code units, then murmur3's finalizer; the same on both sides by construction. */
export function hashKey(s: string): number {
  let h = 0x811c9dc5 | 0;
  let surrogate = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c & 0xf800) === 0xd800) surrogate = true;
    h = Math.imul(h ^ c, 0x01000193);
  }
  if (surrogate) {
    const w = wellFormed(s);
    if (w !== s) return hashKey(w);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const MAYBE_UPPER = /[A-Z\u0080-\uffff]/;

/** toLowerCase() without a new string for one that has no upper-case letter (generated ids never do). */
function lowerCase(s: string): string {
  return MAYBE_UPPER.test(s) ? s.toLowerCase() : s;
}

function capacityFor(n: number): number {
  return n === 0 ? 0 : Math.max(4, n * 2);
}

// ---- writing (the primary) ------------------------------------------------------------------

/**
 * A byte buffer sized up front (for ASCII strings); it grows only for longer UTF-8. `buf` (where
 * positions count from) starts after `prefix`, which the whole buffer (`full`) begins with.
 */
class Writer {
  full: Buffer;
  buf: Buffer;
  pos = 0;

  constructor(size: number, private readonly prefix: Uint8Array) {
    // Not pooled, not zero-filled: every byte is written (fresh pages cost a fault each here).
    this.full = Buffer.allocUnsafeSlow(prefix.length + size);
    this.full.set(prefix, 0);
    this.buf = this.full.subarray(prefix.length);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(this.prefix.length + Math.max(Math.ceil(this.buf.length * 1.25), this.pos + n));
    this.full.copy(next, 0, 0, this.prefix.length + this.pos);
    this.full = next;
    this.buf = next.subarray(this.prefix.length);
  }

  /** The prefix and what was written after it. */
  bytes(): Buffer {
    return this.full.subarray(0, this.prefix.length + this.pos);
  }

  u32At(at: number, v: number): void {
    const b = this.buf;
    b[at] = v;
    b[at + 1] = v >>> 8;
    b[at + 2] = v >>> 16;
    b[at + 3] = v >>> 24;
  }

  varint(v: number): void {
    this.ensure(5);
    const b = this.buf;
    while (v >= 0x80) {
      b[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[this.pos++] = v;
  }

  str(s: string | null): void {
    if (s === null) return this.varint(0);
    const n = s.length;
    this.ensure(n + 5);
    // ASCII (ids, keys, names nearly always): its length is known, so the bytes go straight after it.
    const start = this.pos;
    this.varint(n + 1);
    const b = this.buf;
    let o = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) return this.utf8(s, start);
      b[o++] = c;
    }
    this.pos = o;
  }

  /** `s` again from `start`, as UTF-8 (it has a character past ASCII). */
  utf8(s: string, start: number): void {
    this.pos = start;
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len + 1);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}

/** Bytes of str(s) when `s` is ASCII. */
function strSize(s: string | null): number {
  if (s === null) return 1;
  return s.length < 127 ? s.length + 1 : s.length + 5;
}

const NO_PREFIX = new Uint8Array(0);

/** The flat buffer for `consumers` and `credentials` (references are indexes into `consumers`). */
export function encodeDirectory(consumers: readonly ConsumerSnap[], credentials: CredentialsSnap | undefined): Uint8Array {
  return encodeDirectoryAfter(NO_PREFIX, consumers, credentials);
}

/**
 * `prefix`, then the directory, in one buffer written once (protocol.ts puts a message's head
 * before it, instead of copying 14 MB into a msgpack message).
 */
export function encodeDirectoryAfter(prefix: Uint8Array, consumers: readonly ConsumerSnap[], credentials: CredentialsSnap | undefined): Buffer {
  const creds = credentials ?? NO_CREDENTIALS;
  const nC = consumers.length;
  // Sized up front: assigning far past the end would turn the array into a dictionary.
  const groups = new Array<string[] | undefined>(nC);
  for (const a of creds.acls) (groups[a.consumer] ??= []).push(a.group);
  const idKeys: string[] = new Array<string>(nC);
  const names: (string | null)[] = new Array<string | null>(nC);
  // The size if every string is ASCII: one allocation, no copy.
  let size = HEADER * 4 + nC * 4;
  for (let i = 0; i < nC; i++) {
    const c = consumers[i];
    idKeys[i] = lowerCase(c.id);
    names[i] = c.username;
    size += strSize(c.id) + (idKeys[i] === c.id ? 1 : strSize(idKeys[i])) + strSize(c.username) + strSize(c.customId) + 10;
    for (const t of c.tags) size += strSize(t);
    for (const g of groups[i] ?? NO_GROUPS) size += strSize(g);
  }
  for (const k of creds.keyauth) size += strSize(k.key) + strSize(k.id) + 5;
  for (const b of creds.basicauth) size += strSize(b.username) + strSize(b.id) + strSize(b.passwordHash) + 5;
  for (const j of creds.jwt) size += strSize(j.key) + strSize(j.id) + strSize(j.secret) + strSize(j.algorithm) + strSize(j.rsaPublicKey) + 5;
  for (const a of creds.acls) size += strSize(a.id) + strSize(a.group) + 5;
  size += 4 * TABLES + 4 * (2 * capacityFor(nC) + capacityFor(creds.keyauth.length) + capacityFor(creds.basicauth.length) + capacityFor(creds.jwt.length));

  const w = new Writer(size, prefix);
  w.pos = HEADER * 4;
  const head = [MAGIC, nC, creds.keyauth.length, creds.basicauth.length, creds.jwt.length, creds.acls.length];
  head[H_INDEX_AT] = w.pos;
  const indexAt = w.pos;
  w.pos += nC * 4;
  const consumerSlot = new Uint32Array(nC);
  for (let i = 0; i < nC; i++) {
    const c = consumers[i];
    consumerSlot[i] = i + 1;
    w.u32At(indexAt + i * 4, w.pos);
    const key = idKeys[i];
    w.str(key);
    w.str(key === c.id ? null : c.id);
    w.str(c.username);
    w.str(c.customId);
    w.varint(c.tags.length);
    for (const t of c.tags) w.str(t);
    const g = groups[i] ?? NO_GROUPS;
    w.varint(g.length);
    for (const x of g) w.str(x);
  }
  head[H_KEYAUTH_AT] = w.pos;
  const keyauth = writeCredentials(w, creds.keyauth, ['key', 'id']);
  head[H_BASICAUTH_AT] = w.pos;
  const basic = writeCredentials(w, creds.basicauth, ['username', 'id', 'passwordHash']);
  head[H_JWT_AT] = w.pos;
  const jwt = writeCredentials(w, creds.jwt, ['key', 'id', 'secret', 'algorithm', 'rsaPublicKey']);
  head[H_ACLS_AT] = w.pos;
  for (const a of creds.acls) {
    w.varint(a.consumer);
    w.str(a.id);
    w.str(a.group);
  }
  head[H_TABLES_AT] = w.pos;
  writeTable(w, idKeys, consumerSlot);
  writeTable(w, names, consumerSlot);
  writeTable(w, keyauth.keys, keyauth.at);
  writeTable(w, basic.keys, basic.at);
  writeTable(w, jwt.keys, jwt.at);
  head[H_END] = w.pos;
  for (let i = 0; i < HEADER; i++) w.u32At(i * 4, head[i]);
  return w.bytes();
}

const NO_GROUPS: readonly string[] = [];

/**
 * One credential type's records: `fields` as strings (the first is the key a table finds it by),
 * then the consumer. Returns each record's key and its offset + 1 (its slot value).
 */
function writeCredentials<T extends { consumer: number }>(w: Writer, records: readonly T[], fields: readonly (keyof T & string)[]): { keys: string[]; at: Uint32Array } {
  const keys: string[] = [];
  const at = new Uint32Array(records.length);
  for (let r = 0; r < records.length; r++) {
    const rec = records[r];
    at[r] = w.pos + 1;
    keys.push(rec[fields[0]] as string);
    for (const f of fields) w.str(rec[f] as string | null);
    w.varint(rec.consumer);
  }
  return { keys, at };
}

/** Record r's slot value (`values[r]`) at the first free (or same-key) slot of `keys[r]`'s probe sequence. */
function writeTable(w: Writer, keys: readonly (string | null)[], values: Uint32Array): void {
  const cap = capacityFor(keys.length);
  w.ensure(4 + cap * 4);
  w.u32At(w.pos, cap);
  const at = w.pos + 4;
  w.pos = at + cap * 4;
  const slots = new Int32Array(cap).fill(-1); // record per slot while building
  for (let r = 0; r < keys.length; r++) {
    const key = keys[r];
    if (key === null) continue;
    let i = (hashKey(key) >>> 0) % cap;
    while (slots[i] >= 0 && keys[slots[i]] !== key) i = i + 1 === cap ? 0 : i + 1;
    slots[i] = r;
  }
  for (let i = 0; i < cap; i++) w.u32At(at + i * 4, slots[i] < 0 ? 0 : values[slots[i]]);
}

// ---- reading (a worker; the primary when it wants the lists back) ---------------------------

/** A read-only view of an encodeDirectory() buffer. */
export class ConsumerDirectory {
  readonly consumerCount: number;
  readonly keyauthCount: number;
  readonly basicauthCount: number;
  readonly jwtCount: number;
  readonly aclCount: number;
  readonly #b: Buffer;
  readonly #head: number[] = [];
  /** Each table's first slot and capacity. */
  readonly #tableAt: number[] = [];
  readonly #tableCap: number[] = [];
  /** Where the last #varint / #str / #skip stopped. */
  #next = 0;
  // What lookups made: the same record gives the same object.
  #consumerObjs: (ConsumerSnap | undefined)[] | null = null;
  readonly #credentialObjs = new Map<number, KeyAuthCredential | BasicAuthCredential | JwtCredential>();
  #groups: (readonly string[] | undefined)[] | null = null;

  /**
   * `bytes` are read, never written: in a worker they are usually a shared, writable mapping of
   * the primary's config file (shared/shm.ts readSideFile), seen by every worker.
   */
  constructor(bytes: Uint8Array) {
    this.#b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.#b.length < HEADER * 4) throw new Error('consumer directory: truncated header');
    for (let i = 0; i < HEADER; i++) this.#head.push(this.#u32(i * 4));
    if (this.#head[H_MAGIC] !== MAGIC) throw new Error('consumer directory: not one (bad magic)');
    if (this.#head[H_END] !== this.#b.length) throw new Error('consumer directory: its length does not match its header');
    this.consumerCount = this.#head[H_CONSUMERS];
    this.keyauthCount = this.#head[H_KEYAUTH];
    this.basicauthCount = this.#head[H_BASICAUTH];
    this.jwtCount = this.#head[H_JWT];
    this.aclCount = this.#head[H_ACLS];
    const h = this.#head;
    let last = HEADER * 4;
    for (const s of [H_INDEX_AT, H_KEYAUTH_AT, H_BASICAUTH_AT, H_JWT_AT, H_ACLS_AT, H_TABLES_AT, H_END]) {
      if (h[s] < last) throw new Error('consumer directory: its sections are out of order');
      last = h[s];
    }
    if (h[H_KEYAUTH_AT] - h[H_INDEX_AT] < this.consumerCount * 4) throw new Error('consumer directory: its consumer index is cut');
    const counts = [this.consumerCount, this.consumerCount, this.keyauthCount, this.basicauthCount, this.jwtCount];
    let at = h[H_TABLES_AT];
    for (let t = 0; t < TABLES; t++) {
      const cap = at + 4 <= h[H_END] ? this.#u32(at) : -1;
      if (cap !== capacityFor(counts[t])) throw new Error('consumer directory: a table does not fit its records');
      this.#tableCap.push(cap);
      this.#tableAt.push(at + 4);
      at += 4 + cap * 4;
    }
    if (at !== h[H_END]) throw new Error('consumer directory: its tables do not end where it does');
  }

  #u32(o: number): number {
    const b = this.#b;
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
  }

  #varint(o: number): number {
    const b = this.#b;
    let c = b[o++];
    if (c < 0x80) {
      // A string under 127 bytes, a count, a small index: one byte.
      this.#next = o;
      return c;
    }
    let v = c & 0x7f;
    let scale = 0x80;
    do {
      c = b[o++];
      v += (c & 0x7f) * scale;
      scale *= 0x80;
    } while (c >= 0x80);
    this.#next = o;
    return v;
  }

  #str(o: number): string | null {
    const n = this.#varint(o) - 1;
    if (n < 0) return null;
    const start = this.#next;
    this.#next = start + n;
    return this.#b.toString('utf8', start, start + n);
  }

  /** The offset after the string at `o`. */
  #skip(o: number): number {
    const n = this.#varint(o);
    return n === 0 ? this.#next : this.#next + n - 1;
  }

  /** Whether the string at `o` is `key`, without making a string for an ASCII key. */
  #equals(o: number, key: string): boolean {
    const n = this.#varint(o) - 1;
    if (n < key.length) return false; // null, or shorter: UTF-8 is never shorter than UTF-16
    const b = this.#b;
    const start = this.#next;
    for (let j = 0; j < key.length; j++) {
      const c = key.charCodeAt(j);
      if (c > 127) return this.#str(o) === wellFormed(key);
      if (b[start + j] !== c) return false;
    }
    return n === key.length; // an ASCII key is as many bytes as characters
  }

  /** Table `t`'s slot value for `key` (0: none). */
  #find(t: number, key: string): number {
    const cap = this.#tableCap[t];
    if (cap === 0) return 0;
    const at = this.#tableAt[t];
    let i = (hashKey(key) >>> 0) % cap;
    // At most cap probes: a table the writer made is half empty, so this bound only matters for
    // bytes that are not one (a worker must not spin on them).
    for (let n = 0; n < cap; n++) {
      const v = this.#u32(at + i * 4);
      if (v === 0) return 0;
      if (this.#equals(this.#keyAt(t, v), key)) return v;
      i = i + 1 === cap ? 0 : i + 1;
    }
    return 0;
  }

  /** Where the key of table `t`'s slot value `v` is. */
  #keyAt(t: number, v: number): number {
    if (t === T_BY_ID) return this.#consumerAt(v - 1);
    if (t === T_BY_NAME) return this.#skip(this.#skip(this.#consumerAt(v - 1)));
    return v - 1;
  }

  #consumerAt(i: number): number {
    return this.#u32(this.#head[H_INDEX_AT] + i * 4);
  }

  /** Consumer `i` (an index the credentials and plugins name), made once. */
  consumer(i: number): ConsumerSnap {
    const objs = (this.#consumerObjs ??= new Array<ConsumerSnap | undefined>(this.consumerCount));
    let c = objs[i];
    if (c === undefined) {
      const idKey = this.#str(this.#consumerAt(i)) as string;
      const id = this.#str(this.#next) ?? idKey;
      const username = this.#str(this.#next);
      const customId = this.#str(this.#next);
      const tags: string[] = [];
      for (let t = this.#varint(this.#next); t > 0; t--) tags.push(this.#str(this.#next) as string);
      c = objs[i] = { id, username, customId, tags };
    }
    return c;
  }

  /** Consumer `i`'s id. */
  consumerId(i: number): string {
    return this.consumer(i).id;
  }

  /** The index of the consumer with this id (any case), or -1. */
  consumerIndexById(id: string): number {
    return this.#find(T_BY_ID, lowerCase(id)) - 1;
  }

  /** Kong's anonymous lookup: an id (any case) first, then a username. */
  findConsumer(idOrUsername: string): ConsumerSnap | null {
    let v = this.#find(T_BY_ID, lowerCase(idOrUsername));
    if (v === 0) v = this.#find(T_BY_NAME, idOrUsername);
    return v === 0 ? null : this.consumer(v - 1);
  }

  keyauth(key: string): KeyAuthCredential | undefined {
    const v = this.#find(T_KEYAUTH, key);
    if (v === 0) return undefined;
    let c = this.#credentialObjs.get(v) as KeyAuthCredential | undefined;
    if (c === undefined) {
      const id = this.#str(this.#skip(v - 1)) as string;
      c = { id, key, consumer: this.consumer(this.#varint(this.#next)) };
      this.#credentialObjs.set(v, c);
    }
    return c;
  }

  basicauth(username: string): BasicAuthCredential | undefined {
    const v = this.#find(T_BASICAUTH, username);
    if (v === 0) return undefined;
    let c = this.#credentialObjs.get(v) as BasicAuthCredential | undefined;
    if (c === undefined) {
      const id = this.#str(this.#skip(v - 1)) as string;
      const passwordHash = this.#str(this.#next) as string;
      c = { id, username, passwordHash, consumer: this.consumer(this.#varint(this.#next)) };
      this.#credentialObjs.set(v, c);
    }
    return c;
  }

  jwt(key: string): JwtCredential | undefined {
    const v = this.#find(T_JWT, key);
    return v === 0 ? undefined : this.#jwtAt(v - 1);
  }

  #jwtAt(o: number): JwtCredential {
    let c = this.#credentialObjs.get(o + 1) as JwtCredential | undefined;
    if (c === undefined) {
      const key = this.#str(o) as string;
      const id = this.#str(this.#next) as string;
      const secret = this.#str(this.#next);
      const algorithm = this.#str(this.#next) as string;
      const rsaPublicKey = this.#str(this.#next);
      c = { id, key, secret, algorithm, rsaPublicKey, consumer: this.consumer(this.#varint(this.#next)) };
      this.#credentialObjs.set(o + 1, c);
    }
    return c;
  }

  /** Every jwt credential's id, in file order. */
  jwtIds(): string[] {
    const ids: string[] = [];
    let o = this.#head[H_JWT_AT];
    for (let r = 0; r < this.jwtCount; r++) {
      ids.push(this.#str(this.#skip(o)) as string);
      o = this.#skip(this.#skip(this.#skip(this.#next)));
      this.#varint(o);
      o = this.#next;
    }
    return ids;
  }

  /** The ACL groups of the consumer with this id, in file order; undefined without any. */
  aclGroups(consumerId: string): readonly string[] | undefined {
    if (this.aclCount === 0) return undefined;
    const i = this.consumerIndexById(consumerId);
    if (i < 0) return undefined;
    const cache = (this.#groups ??= new Array<readonly string[] | undefined>(this.consumerCount));
    let g = cache[i];
    if (g === undefined) {
      let o = this.#skip(this.#skip(this.#skip(this.#skip(this.#consumerAt(i)))));
      let tags = this.#varint(o);
      for (o = this.#next; tags > 0; tags--) o = this.#skip(o);
      const list: string[] = [];
      let n = this.#varint(o);
      for (o = this.#next; n > 0; n--) {
        list.push(this.#str(o) as string);
        o = this.#next;
      }
      g = cache[i] = list;
    }
    return g.length === 0 ? undefined : g;
  }

  /** The lists back, as the snapshot had them (the primary's metrics names; tests). */
  toLists(): { consumers: ConsumerSnap[]; credentials: CredentialsSnap } {
    const consumers: ConsumerSnap[] = [];
    for (let i = 0; i < this.consumerCount; i++) {
      const c = this.consumer(i);
      consumers.push({ id: c.id, username: c.username, customId: c.customId, tags: [...c.tags] });
    }
    const keyauth: CredentialsSnap['keyauth'] = [];
    this.#next = this.#head[H_KEYAUTH_AT];
    for (let r = 0; r < this.keyauthCount; r++) {
      const key = this.#str(this.#next) as string;
      const id = this.#str(this.#next) as string;
      keyauth.push({ id, key, consumer: this.#varint(this.#next) });
    }
    const basicauth: CredentialsSnap['basicauth'] = [];
    for (let r = 0; r < this.basicauthCount; r++) {
      const username = this.#str(this.#next) as string;
      const id = this.#str(this.#next) as string;
      const passwordHash = this.#str(this.#next) as string;
      basicauth.push({ id, username, passwordHash, consumer: this.#varint(this.#next) });
    }
    const jwt: CredentialsSnap['jwt'] = [];
    for (let r = 0; r < this.jwtCount; r++) {
      const key = this.#str(this.#next) as string;
      const id = this.#str(this.#next) as string;
      const secret = this.#str(this.#next);
      const algorithm = this.#str(this.#next) as string;
      const rsaPublicKey = this.#str(this.#next);
      jwt.push({ id, key, secret, algorithm, rsaPublicKey, consumer: this.#varint(this.#next) });
    }
    const acls: CredentialsSnap['acls'] = [];
    for (let r = 0; r < this.aclCount; r++) {
      const consumer = this.#varint(this.#next);
      const id = this.#str(this.#next) as string;
      acls.push({ id, group: this.#str(this.#next) as string, consumer });
    }
    return { consumers, credentials: { keyauth, basicauth, jwt, acls } };
  }
}
