/** Starts the demo upstreams in a child process; resolves to a function that stops them. */
import { fork } from 'node:child_process';
import path from 'node:path';

export function startDemoUpstreams(): Promise<() => Promise<void>> {
  const child = fork(path.join(__dirname, 'upstreams.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stop = (): Promise<void> => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(stop));
    child.once('exit', (code) => reject(new Error(`the demo upstreams could not start (exit ${code}): are 127.0.0.1:9001 and :9002 free?`)));
  });
}
