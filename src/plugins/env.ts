/**
 * What plugin handlers may look up besides their own config, made once per snapshot in each
 * worker (never per request): consumers by id and username, each auth plugin's credentials by
 * what a request presents, ACL groups by consumer. All of it reads the snapshot's consumer
 * directory (shared/consumer-directory.ts) in place: a worker builds no per-consumer index.
 */
import type { ConsumerSnap, WorkerSnapshot } from '../shared/snapshot';
import { ConsumerDirectory, encodeDirectory, type BasicAuthCredential, type JwtCredential, type KeyAuthCredential } from '../shared/consumer-directory';

export type { BasicAuthCredential, JwtCredential, KeyAuthCredential };

/** A read-only lookup by string, as a handler's conf keeps it. */
export interface Lookup<T> {
  get(key: string): T | undefined;
}

export interface PluginEnv {
  /** Consumer by id (any case) or by username (as written). */
  findConsumer(idOrUsername: string): ConsumerSnap | null;
  /** Consumer `index` (as plugins and credentials name consumers) by its id. */
  consumerId(index: number): string;
  keyauthByKey: Lookup<KeyAuthCredential>;
  basicauthByUsername: Lookup<BasicAuthCredential>;
  jwtByKey: Lookup<JwtCredential>;
  /** Every jwt credential's id (the jwt handler's cache pruning). */
  jwtIds(): string[];
  /** ACL groups per consumer id, in file order. */
  aclGroups: Lookup<readonly string[]>;
}

/** Where a worker's consumers come from: the directory's bytes (from the primary) or the lists. */
type ConsumerSource = Pick<WorkerSnapshot, 'directory' | 'consumers' | 'credentials'>;

class KeyAuthLookup implements Lookup<KeyAuthCredential> {
  constructor(private readonly dir: ConsumerDirectory) {}
  get(key: string): KeyAuthCredential | undefined { return this.dir.keyauth(key); }
}

class BasicAuthLookup implements Lookup<BasicAuthCredential> {
  constructor(private readonly dir: ConsumerDirectory) {}
  get(username: string): BasicAuthCredential | undefined { return this.dir.basicauth(username); }
}

class JwtLookup implements Lookup<JwtCredential> {
  constructor(private readonly dir: ConsumerDirectory) {}
  get(key: string): JwtCredential | undefined { return this.dir.jwt(key); }
}

class AclLookup implements Lookup<readonly string[]> {
  constructor(private readonly dir: ConsumerDirectory) {}
  get(consumerId: string): readonly string[] | undefined { return this.dir.aclGroups(consumerId); }
}

class DirectoryEnv implements PluginEnv {
  readonly keyauthByKey: Lookup<KeyAuthCredential>;
  readonly basicauthByUsername: Lookup<BasicAuthCredential>;
  readonly jwtByKey: Lookup<JwtCredential>;
  readonly aclGroups: Lookup<readonly string[]>;

  constructor(private readonly dir: ConsumerDirectory) {
    this.keyauthByKey = new KeyAuthLookup(dir);
    this.basicauthByUsername = new BasicAuthLookup(dir);
    this.jwtByKey = new JwtLookup(dir);
    this.aclGroups = new AclLookup(dir);
  }

  findConsumer(idOrUsername: string): ConsumerSnap | null { return this.dir.findConsumer(idOrUsername); }
  consumerId(index: number): string { return this.dir.consumerId(index); }
  jwtIds(): string[] { return this.dir.jwtIds(); }
}

/** The env over `source`'s directory; lists (tests, tools) are encoded into one first. */
export function buildPluginEnv(source: ConsumerSource): PluginEnv {
  const bytes = source.directory ?? encodeDirectory(source.consumers ?? [], source.credentials);
  return new DirectoryEnv(new ConsumerDirectory(bytes));
}
