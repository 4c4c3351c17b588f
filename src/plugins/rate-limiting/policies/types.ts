import type { Period } from '../windows';

/** One configured window: Kong's period name, its code in the shared table (1..6), its limit. */
export interface Limit {
  period: Period;
  code: number;
  limit: number;
}

/**
 * A policy's answer: `stop` is the index of the exceeded limit (-1: let through); `known` is false
 * when no usage could be read (no headers then, as Kong sends none without usage).
 */
export interface Outcome {
  stop: number;
  known: boolean;
}
