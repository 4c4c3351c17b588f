/**
 * Plugin registry for the data plane: name → handler. Workers import this file, never the
 * schemas (./index.ts), so the validator stays out of worker processes.
 */
import type { PluginHandler } from './types';
import { handler as acl } from './acl/handler';
import { handler as basicAuth } from './basic-auth/handler';
import { handler as keyAuth } from './key-auth/handler';

const HANDLERS: readonly PluginHandler<any>[] = [
  acl,
  basicAuth,
  keyAuth,
];

export const PLUGIN_HANDLERS: ReadonlyMap<string, PluginHandler<any>> = new Map(HANDLERS.map((h) => [h.name, h]));
