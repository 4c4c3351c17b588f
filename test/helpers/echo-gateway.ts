/** The plugin proxy tests' common setup: an echo upstream and the real gateway (2 workers) in front of it. */
import { after, before } from 'node:test';
import { startGateway, type Gateway } from './start-gateway';
import { startEchoServer, type EchoServer } from './upstream';

export interface EchoGateway {
  /** Both are set once the suite's `before` ran. */
  readonly echo: EchoServer;
  readonly gw: Gateway;
}

/**
 * Registers `before`/`after` hooks in the calling suite: an echo upstream named `name`, and a
 * gateway loading `config(echoPort)`; both stopped after the suite.
 */
export function useEchoGateway(name: string, config: (echoPort: number) => object): EchoGateway {
  const held = {} as { echo: EchoServer; gw: Gateway };
  before(async () => {
    held.echo = await startEchoServer(name);
    held.gw = await startGateway({ config: config(held.echo.port) });
  });
  after(async () => {
    await held.gw?.stop();
    await held.echo?.close();
  });
  return held;
}
