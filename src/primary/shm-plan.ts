/**
 * How many words each shared-memory region gets (shared/shm.ts REGION), decided once at start
 * from the settings: the segment cannot grow after workers mapped it, so a region's size is a
 * restart-only setting, like the worker count. A feature that needs shared state adds its line
 * here and draws its layout in its own shared/ module.
 */
import os from 'node:os';
import type { Settings } from '../shared/settings';
import { REGION, REGION_COUNT } from '../shared/shm';
import { metricsLayout } from './metrics/collect';
import { metricsRegionWords } from '../shared/metrics-table';
import { tableWords as rateLimitWords } from '../shared/rate-limit-table';
import { tableWords as breakerWords } from '../shared/breaker-table';
import { tableWords as targetWords } from '../shared/target-table';

export function regionWords(settings: Settings, workers = settings.workers > 0 ? settings.workers : os.availableParallelism()): number[] {
  const words = new Array<number>(REGION_COUNT).fill(0);
  words[REGION.METRICS] = metricsRegionWords(metricsLayout(settings));
  words[REGION.RATE_LIMITS] = rateLimitWords(settings.rateLimitingTableSize);
  words[REGION.TARGETS] = targetWords(settings.targetSlots, workers);
  words[REGION.BREAKERS] = breakerWords(settings.circuitBreakerTableSize);
  return words;
}
