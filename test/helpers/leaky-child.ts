/**
 * A test process that starts what tests start (a gateway, a SIGSTOPped blackhole upstream), prints
 * what it started as one JSON line, then ends without cleaning up: `exit`, `throw` or `sigterm`
 * (argv[2]). Its parent checks that the helpers' exit hooks killed and removed all of it.
 */
import { startBlackholeServer } from './upstream-faults';
import { startGateway } from './start-gateway';

async function main(): Promise<void> {
  const how = process.argv[2];
  const blackhole = await startBlackholeServer();
  const gw = await startGateway({
    config: { _format_version: '3.0', services: [{ name: 's', url: 'http://127.0.0.1:9', routes: [{ paths: ['/'] }] }] },
  });
  process.stdout.write(
    JSON.stringify({ blackhole: blackhole.pid, primary: gw.child.pid, workers: [...gw.workerPids], segment: gw.segment, configPath: gw.configPath }) + '\n',
    () => {
      if (how === 'exit') process.exit(0);
      if (how === 'sigterm') process.kill(process.pid, 'SIGTERM');
      if (how === 'throw') throw new Error('test process crashed');
    },
  );
}

void main();
