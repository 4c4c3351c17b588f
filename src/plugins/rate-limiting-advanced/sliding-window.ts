/**
 * The sliding window of rate-limiting-advanced: the weighted two-window counter. Windows of
 * `size` seconds are aligned on multiples of `size` since the epoch; at `now`, the rate is
 *
 *   rate = floor(previous window's count × the part of it still inside the sliding window) + current count
 *
 * It assumes the previous window's requests were spread evenly. The estimate is enforced exactly
 * (increment, then check), so within the current window at most `limit − floor(prev × weight)`
 * requests pass. Worst case against a true sliding log: `prev` requests bunched at the very end
 * of the previous window, then admitted evenly through the current one: an interval of `size`
 * seconds can then hold up to 2·limit. A burst at a window edge cannot double up: δ seconds
 * into the new window, at most floor(limit·δ/size) + 1 more requests pass after a full previous window.
 */

/** Index of the `size`-second window holding `nowMs`. */
export function windowIndexOf(sizeS: number, nowMs: number): number {
  return Math.floor(nowMs / (sizeS * 1000));
}

/** The part of the previous window still inside the sliding window ending at `nowMs` (1 … 0]. */
export function previousWeight(sizeS: number, nowMs: number): number {
  const sizeMs = sizeS * 1000;
  return (sizeMs - (nowMs % sizeMs)) / sizeMs;
}

/** The estimated rate: `current` includes this request when it was counted already. */
export function slidingRate(previous: number, current: number, sizeS: number, nowMs: number): number {
  return Math.floor(previous * previousWeight(sizeS, nowMs)) + current;
}

/** Whole seconds until the current window ends (≥ 1): RateLimit-Reset. */
export function secondsToWindowEnd(sizeS: number, nowMs: number): number {
  const sizeMs = sizeS * 1000;
  return Math.max(1, Math.ceil((sizeMs - (nowMs % sizeMs)) / 1000));
}
