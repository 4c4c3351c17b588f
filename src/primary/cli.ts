/**
 * The `hyperway` command line:
 *   hyperway start [--config FILE] [--demo]   run the gateway (FILE, $HYPERWAY_CONFIG, $KONG_DECLARATIVE_CONFIG, or with --demo the demo config)
 *   hyperway check --config FILE               validate only: exit 0, or 1 listing every error
 */
import path from 'node:path';
import fs from 'node:fs';
import { startPrimary } from './index';
import { checkConfigFile } from './config';
import { formatProblems, type ConfigError } from '../lib/errors';
import { startDemoUpstreams } from '../demo/launch';
import { HYPERWAY_VERSION } from '../shared/version';
import { DB_MODE_CONFIG, DB_USAGE, dbModeByEnv } from './db/usage';

const USAGE = `Usage:
  hyperway start [--config FILE] [--demo]   run the gateway
  hyperway check --config FILE               validate a Kong declarative config
${DB_USAGE}
  hyperway --version
The config file: --config, else HYPERWAY_CONFIG, else KONG_DECLARATIVE_CONFIG (Kong's);
--demo alone runs the bundled demo config.
Environment: HYPERWAY_CONFIG, KONG_DECLARATIVE_CONFIG, HYPERWAY_PROXY_LISTEN, HYPERWAY_ADMIN_LISTEN, HYPERWAY_WORKERS,
HYPERWAY_LOG_LEVEL and every setting as HYPERWAY_<NAME> or KONG_<NAME> (see README).`;

export const DEFAULT_CONFIG = path.resolve(__dirname, '..', '..', '..', 'native-config', 'hyperway.yaml');

interface Args { command: string; config: string | null; demo: boolean }

function parse(argv: string[]): Args | string {
  const args: Args = { command: argv[0] ?? '', config: null, demo: false };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config' || a === '-c') {
      if (argv[i + 1] === undefined) return '--config needs a file';
      args.config = argv[++i];
    } else if (a.startsWith('--config=')) args.config = a.slice(9);
    else if (a === '--demo') args.demo = true;
    else return `unknown argument: ${a}`;
  }
  return args;
}

export function runCli(argv: string[]): void {
  if (argv[0] === '--version' || argv[0] === '-v') {
    process.stdout.write(`hyperway ${HYPERWAY_VERSION}\n`);
    return;
  }
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (argv[0] === 'migrations' || argv[0] === 'config') {
    // pg loads only for these commands (and for `start` in DB mode).
    void import('./db/commands').then((m) => m.runDbCommand(argv)).then((code) => (process.exitCode = code));
    return;
  }
  const args = parse(argv);
  if (typeof args === 'string' || (args.command !== 'start' && args.command !== 'check')) {
    const why = typeof args === 'string' ? args : argv.length === 0 ? 'a command is needed' : `unknown command: ${argv[0]}`;
    process.stderr.write(`hyperway: ${why}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  // Kong's DB mode runs without a declarative file: its settings come from the environment.
  if (args.config === null && !process.env.HYPERWAY_CONFIG && !process.env.KONG_DECLARATIVE_CONFIG && dbModeByEnv(process.env)) args.config = DB_MODE_CONFIG;
  const given = configFileOf(args, process.env);
  if (given === null) {
    process.stderr.write('hyperway: no config file given: pass --config FILE, or set HYPERWAY_CONFIG or KONG_DECLARATIVE_CONFIG ' +
      '(a Kong declarative config, kong.yml); `hyperway start --demo` runs the bundled demo config\n');
    process.exitCode = 1;
    return;
  }
  const file = path.resolve(given);
  if (args.command === 'check') return check(file);
  void start(file, args.demo);
}

/**
 * --config, then HYPERWAY_CONFIG, then KONG_DECLARATIVE_CONFIG (a Kong container's environment
 * carried over), then the demo config with --demo; null: none given. Never the demo by default: a
 * migrated container would silently serve it and answer 404 to everything.
 */
export function configFileOf(args: { config: string | null; demo: boolean }, env: NodeJS.ProcessEnv): string | null {
  const set = (v: string | undefined): string | null => (v === undefined || v.trim() === '' ? null : v);
  return args.config ?? set(env.HYPERWAY_CONFIG) ?? set(env.KONG_DECLARATIVE_CONFIG) ?? (args.demo ? DEFAULT_CONFIG : null);
}

function check(file: string): void {
  const { problems, warnings } = checkConfigFile(file, process.env);
  if (warnings.length > 0) process.stderr.write(formatProblems(file, warnings, 'warning') + '\n');
  if (problems.length > 0) {
    process.stderr.write(formatProblems(file, problems) + '\n');
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${file}: OK\n`);
}

async function start(file: string, demo: boolean): Promise<void> {
  if (!fs.existsSync(file)) {
    process.stderr.write(`hyperway: config file not found: ${file}\n`);
    process.exit(1);
  }
  let stopDemo: (() => Promise<void>) | null = null;
  try {
    if (demo) stopDemo = await startDemoUpstreams();
    await startPrimary({
      configFile: file,
      env: process.env,
      onReady: ({ proxy, admin, workers }) => {
        const p = proxy.replace('0.0.0.0', '127.0.0.1');
        process.stdout.write(
          `hyperway ${HYPERWAY_VERSION}: ${workers} worker process(es) serving ${file}\n` +
          `  proxy     ${proxy}\n  admin API ${admin ?? 'off (admin_listen: off)'}\n` +
          (demo ? `  try       curl -i ${p}/demo/hello   (balanced over two demo upstreams)\n` +
                  `            curl -i ${p}/echo/anything  (echoes what the upstream received)\n` : '') +
          (admin === null ? '' : `  status    curl -s ${admin}/status\n`));
      },
      onShutdown: () => stopDemo?.(),
    });
  } catch (e) {
    const err = e as ConfigError;
    if (typeof err.code === 'string' && err.code.startsWith('HW_ERR_')) process.stderr.write(err.message + '\n');
    else if (!(e instanceof Error) || err.code === undefined) process.stderr.write(`hyperway: ${(e as Error).message}\n`);
    else process.stderr.write(`hyperway: ${(e as Error).stack}\n`);
    await stopDemo?.();
    process.exit(1);
  }
}
