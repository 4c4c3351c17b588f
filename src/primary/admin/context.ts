import type { Settings } from '../../shared/settings';
import type { Segment } from '../../shared/shm';
import type { Supervisor } from '../supervisor/supervisor';
import type { MetricsService } from '../metrics/endpoint';
import type { ConfigWriter } from '../store/writer';

/** What Admin API resources may read: the primary's state, never a worker's memory. */
export interface AdminContext {
  settings: Settings;
  segment: Segment;
  supervisor: Supervisor;
  nodeId: string;
  startedAt: number;
  configFile: string;
  /** Request metrics (GET /metrics); absent in tests that build a bare context. */
  metrics?: MetricsService;
  /** The entity store and the one queue that changes it (SIGHUP, POST /config, CRUD). */
  writer: ConfigWriter;
  env: NodeJS.ProcessEnv;
}
