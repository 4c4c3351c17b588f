// Child process for rate-limit-table.test.ts: tries N requests on one key against a limit and
// reports how many passed; optionally fills the table with keys of its own first.
import { attachSegment, region, REGION } from '../../../src/shared/shm';
import { hashKey, RateLimitTable } from '../../../src/shared/rate-limit-table';

const [name, count, limit, nowMs, undoEvery] = process.argv.slice(2);
const table = new RateLimitTable(region(attachSegment(name), REGION.RATE_LIMITS)!);
const key = hashKey('route:service:client');
const other = hashKey('route:service:other');
let passed = 0;
for (let i = 0; i < Number(count); i++) {
  // minute (code 2) at a fixed instant: every process counts the same window.
  const c = table.add(key, 2, Number(nowMs), 1);
  if (c <= Number(limit)) passed++;
  else table.add(key, 2, Number(nowMs), -1);
  // A second key counted and undone, as a request blocked by another window would be.
  if (Number(undoEvery) > 0 && i % Number(undoEvery) === 0) {
    table.add(other, 2, Number(nowMs), 1);
    table.add(other, 2, Number(nowMs), -1);
  }
}
process.send?.(passed, () => process.exit(0));
