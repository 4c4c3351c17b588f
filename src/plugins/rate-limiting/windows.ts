/**
 * Kong's fixed calendar windows (`kong/tools/timestamp.lua` get_timestamps, UTC) and the period
 * tables its handler uses: window starts, expirations, header names.
 */
import { PERIODS, type Period } from '../../shared/rate-limit-table';

export { PERIODS, type Period };

/** Kong's EXPIRATION: a window's length in seconds as Kong counts it (a month is 30 days). */
export const EXPIRATION: Readonly<Record<Period, number>> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
  month: 2592000,
  year: 31536000,
};

const cap = (p: string): string => p[0].toUpperCase() + p.slice(1);
/** Kong's spelling on the wire (`X-RateLimit-Limit-Minute`). */
export const X_RATELIMIT_LIMIT: Readonly<Record<Period, string>> = Object.fromEntries(PERIODS.map((p) => [p, `X-RateLimit-Limit-${cap(p)}`])) as Record<Period, string>;
export const X_RATELIMIT_REMAINING: Readonly<Record<Period, string>> = Object.fromEntries(PERIODS.map((p) => [p, `X-RateLimit-Remaining-${cap(p)}`])) as Record<Period, string>;

/** Start (ms, UTC) of the calendar window of `period` holding `nowMs`. */
export function windowStart(period: Period, nowMs: number): number {
  switch (period) {
    case 'second': return nowMs - (nowMs % 1000);
    case 'minute': return nowMs - (nowMs % 60_000);
    case 'hour': return nowMs - (nowMs % 3_600_000);
    case 'day': return nowMs - (nowMs % 86_400_000);
    case 'month': {
      const d = new Date(nowMs);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
    case 'year': return Date.UTC(new Date(nowMs).getUTCFullYear(), 0, 1);
  }
}

/** Kong's RateLimit-Reset / Retry-After: max(1, window length − whole seconds into the window). */
export function resetSeconds(period: Period, nowMs: number): number {
  return Math.max(1, EXPIRATION[period] - Math.floor((nowMs - windowStart(period, nowMs)) / 1000));
}
