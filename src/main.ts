#!/usr/bin/env node
/**
 * Picks the role of this process and nothing else: the primary (control plane, the CLI) or a
 * worker (data plane, forked by the primary with HYPERWAY_ROLE=worker). Each role loads only its
 * own code.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
if (process.env.HYPERWAY_ROLE === 'worker') {
  (require('./worker') as typeof import('./worker')).startWorker();
} else {
  (require('./primary/cli') as typeof import('./primary/cli')).runCli(process.argv.slice(2));
}
