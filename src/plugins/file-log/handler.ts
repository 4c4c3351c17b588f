/**
 * Kong's file-log: one JSON line per request (`kong.log.serialize()`), appended to `path`;
 * `/dev/stdout` is written by each worker without blocking it (stdio-writer.ts).
 */
import type { PluginHandler } from '../types';
import { writerFor, type LineWriter } from './writer';

interface FileLogConf {
  writer: LineWriter;
  reopen: boolean;
}

export const handler: PluginHandler<FileLogConf> = {
  name: 'file-log',
  priority: 9,
  version: '3.10.0',
  configure(config) {
    return { writer: writerFor(config.path as string), reopen: config.reopen === true };
  },
  log(entry, conf) {
    conf.writer.push(`${JSON.stringify(entry)}\n`, conf.reopen);
  },
};
