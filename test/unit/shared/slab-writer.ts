// Child process for counter-slab.test.ts: counts N requests into its own slot and a shared word.
import { attachSegment } from '../../../src/shared/shm';
import { WorkerSlot } from '../../../src/shared/counter-slab';

const [name, index, count] = process.argv.slice(2);
const seg = attachSegment(name);
const slot = new WorkerSlot(seg, Number(index));
for (let i = 0; i < Number(count); i++) {
  slot.requestStarted();
  Atomics.add(seg.words, 15, 1);
  slot.requestFinished();
}
process.exit(0);
