/**
 * Structured one-line JSON logs on stderr. The level is set once per process (settings.logLevel).
 * Kong's levels: debug < info < notice < warn < error.
 */
/** Kong's log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, notice: 30, warn: 40, error: 50 };
let threshold = LEVELS.notice;
let role = 'primary';

export function configureLog(level: LogLevel, processRole: string): void {
  threshold = LEVELS[level] ?? LEVELS.notice;
  role = processRole;
}

export function log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  if (LEVELS[level] < threshold) return;
  const line = { time: new Date().toISOString(), level, role, pid: process.pid, msg, ...fields };
  process.stderr.write(JSON.stringify(line) + '\n');
}

export function isLogEnabled(level: LogLevel): boolean {
  return LEVELS[level] >= threshold;
}
