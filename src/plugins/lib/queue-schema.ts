/** Kong's `typedefs.queue` (kong/tools/queue_schema.lua): batching, bounds and retries of a log queue. */
import type { Field } from '../schema-types';

export const queueField: Field = {
  type: 'record',
  fields: {
    max_batch_size: { type: 'integer', between: [1, 1000000], default: 1 },
    max_coalescing_delay: { type: 'number', between: [0, 3600], default: 1 },
    max_entries: { type: 'integer', between: [1, 1000000], default: 10000 },
    max_bytes: { type: 'integer' },
    max_retry_time: { type: 'number', default: 60 },
    initial_retry_delay: { type: 'number', between: [0.001, 1000000], default: 0.01 },
    max_retry_delay: { type: 'number', between: [0.001, 1000000], default: 60 },
    concurrency_limit: { type: 'integer', oneOf: [-1, 1], default: 1 },
  },
};

export interface QueueConf {
  max_batch_size: number;
  max_coalescing_delay: number;
  max_entries: number;
  max_bytes: number | null;
  max_retry_time: number;
  initial_retry_delay: number;
  max_retry_delay: number;
  concurrency_limit: number;
}
