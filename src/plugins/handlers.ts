/**
 * Plugin registry for the data plane: name → handler. Workers import this file, never the
 * schemas (./index.ts), so the validator stays out of worker processes.
 */
import type { PluginHandler } from './types';
import { handler as fileLog } from './file-log/handler';
import { handler as httpLog } from './http-log/handler';
import { handler as requestTransformer } from './request-transformer/handler';
import { handler as responseTransformer } from './response-transformer/handler';

const HANDLERS: readonly PluginHandler<any>[] = [
  fileLog,
  httpLog,
  requestTransformer,
  responseTransformer,
];

export const PLUGIN_HANDLERS: ReadonlyMap<string, PluginHandler<any>> = new Map(HANDLERS.map((h) => [h.name, h]));
