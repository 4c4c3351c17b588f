/**
 * What plugin handlers may look up besides their own config, built once per snapshot in each
 * worker (never per request): consumers by id and username, and each auth plugin's credentials
 * indexed by what a request presents.
 */
import type { ConsumerSnap, CredentialsSnap, Snapshot } from '../shared/snapshot';

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

export interface PluginEnv {
  /** Consumer by id (lowercase) or by username (as written). */
  findConsumer(idOrUsername: string): ConsumerSnap | null;
  keyauthByKey: ReadonlyMap<string, KeyAuthCredential>;
  basicauthByUsername: ReadonlyMap<string, BasicAuthCredential>;
  jwtByKey: ReadonlyMap<string, JwtCredential>;
  /** ACL groups per consumer id, in file order. */
  aclGroups: ReadonlyMap<string, readonly string[]>;
}

export function buildPluginEnv(snapshot: Pick<Snapshot, 'consumers' | 'credentials'>): PluginEnv {
  const consumers = snapshot.consumers;
  // Built on the first lookup: only an auth plugin's `anonymous` (when its chain is configured)
  // and a plugin's own findConsumer use them; 100,000 consumers' two maps cost a worker 0.2–0.3 s
  // of every snapshot's build, before it could serve.
  let byId: Map<string, ConsumerSnap> | null = null;
  let byName: Map<string, ConsumerSnap> | null = null;
  const index = (): void => {
    byId = new Map<string, ConsumerSnap>();
    byName = new Map<string, ConsumerSnap>();
    for (const c of consumers) {
      byId.set(lowerCase(c.id), c);
      if (c.username !== null) byName.set(c.username, c);
    }
  };
  const creds: CredentialsSnap = snapshot.credentials ?? { keyauth: [], basicauth: [], jwt: [], acls: [] };
  const aclGroups = new Map<string, string[]>();
  for (const a of creds.acls) {
    const id = consumers[a.consumer].id;
    const list = aclGroups.get(id);
    if (list) list.push(a.group);
    else aclGroups.set(id, [a.group]);
  }
  // Plain loops: `new Map(list.map(...))` made a [key, value] pair per credential first (100,000
  // consumers' keys cost each worker a quarter of a second per snapshot).
  const keyauthByKey = new Map<string, KeyAuthCredential>();
  for (const c of creds.keyauth) keyauthByKey.set(c.key, { id: c.id, key: c.key, consumer: consumers[c.consumer] });
  const basicauthByUsername = new Map<string, BasicAuthCredential>();
  for (const c of creds.basicauth) basicauthByUsername.set(c.username, { id: c.id, username: c.username, passwordHash: c.passwordHash, consumer: consumers[c.consumer] });
  const jwtByKey = new Map<string, JwtCredential>();
  for (const c of creds.jwt) jwtByKey.set(c.key, { ...c, consumer: consumers[c.consumer] });
  return {
    // Kong's anonymous lookup: an id first, then a username.
    findConsumer: (v) => {
      if (byId === null) index();
      return byId!.get(v.toLowerCase()) ?? byName!.get(v) ?? null;
    },
    keyauthByKey,
    basicauthByUsername,
    jwtByKey,
    aclGroups,
  };
}

/** toLowerCase() without a new string for an id that has no upper-case letter (generated ids never do). */
function lowerCase(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 65 && c <= 90) || c > 127) return s.toLowerCase();
  }
  return s;
}
