/**
 * Preloaded into every Hyperway process of a memory bench (`node --require …/heap-probe.js`;
 * forked workers inherit execArgv): writes process.memoryUsage() to
 * $BENCH_HEAP_PROBE_DIR/<pid>.json every $BENCH_HEAP_PROBE_MS, because the gateway publishes its
 * workers' RSS but not their V8 heap. Does nothing without the directory. The timer is unref'd so
 * it never keeps a draining worker alive. With BENCH_HEAP_PROBE_GC=1 and `--expose-gc` it runs a
 * full collection first, so heapUsed is the live heap rather than live + not yet collected.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_HEAP_PROBE_DIR;
if (dir) {
  const every = Number(process.env.BENCH_HEAP_PROBE_MS) || 2000;
  const file = join(dir, `${process.pid}.json`);
  const tmp = `${file}.tmp`;
  const gc = process.env.BENCH_HEAP_PROBE_GC === '1' ? (globalThis as { gc?: () => void }).gc : undefined;
  const write = (): void => {
    try {
      gc?.();
      const m = process.memoryUsage();
      writeFileSync(tmp, JSON.stringify({ pid: process.pid, at: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }));
      renameSync(tmp, file);
    } catch {
      // the bench removed its scratch directory: nothing left to report to
    }
  };
  write();
  setInterval(write, every).unref();
}
