/**
 * How the gateway connects to a WebSocket upstream: ws's createConnection hook (TCP or TLS,
 * the exchange's connect timer, SNI, keep-alive) and the masking keys of its client frames.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { randomFillSync } from 'node:crypto';

/** What the hook needs from the handshake it connects for (websocket-handshake.ts). */
export interface ConnectingExchange {
  readonly secure: boolean;
  /** SNI for a TLS upstream ('' for none). */
  serverName(): string;
  /** The TCP (or TLS) connection is up: the connect timer gives way to read_timeout. */
  connected(): void;
}

/** Where the handshake rides on ws's options, its socket and the TCP socket. */
export const EXCHANGE = Symbol('hyperway.websocket.exchange');
type ConnectOptions = { host: string; port: number; path?: string; servername?: string; [EXCHANGE]: ConnectingExchange };
type WatchedSocket = Socket & { [EXCHANGE]: ConnectingExchange };

const KEEPALIVE_MS = 60_000;

/**
 * ws's createConnection hook. `path` is the request path here, never a socket path (ws's own
 * hook clears it too).
 */
export function connectUpstream(options: ConnectOptions): Socket {
  const exchange = options[EXCHANGE];
  options.path = undefined;
  let socket: Socket;
  if (exchange.secure) {
    // SNI: the upstream host (the Host sent, without its port), as Kong's proxy_ssl_name
    // $upstream_host; none when that is an address (RFC 6066 names only).
    if (options.servername === undefined) options.servername = exchange.serverName();
    socket = tlsConnect(options as never);
    socket.once('secureConnect', onUpstreamConnect);
  } else {
    socket = netConnect(options as never);
    socket.once('connect', onUpstreamConnect);
  }
  // An idle tunnel to an upstream that vanished without a FIN is found by TCP keep-alive.
  socket.setKeepAlive(true, KEEPALIVE_MS);
  (socket as WatchedSocket)[EXCHANGE] = exchange;
  return socket;
}

function onUpstreamConnect(this: Socket): void {
  (this as WatchedSocket)[EXCHANGE].connected();
}

// Masking keys from a pool, never all zero: ws then copies (and masks) every frame into its own
// buffer while send() runs, so a uWS message buffer may be handed over without a copy (uWS
// neuters it when its handler returns; an all-zero key would make ws send the buffer itself).
const MASK_POOL = Buffer.alloc(8192);
let maskAt = MASK_POOL.length;
export function generateMask(mask: Buffer): void {
  if (maskAt === MASK_POOL.length) {
    randomFillSync(MASK_POOL);
    maskAt = 0;
  }
  mask[0] = MASK_POOL[maskAt++];
  mask[1] = MASK_POOL[maskAt++];
  mask[2] = MASK_POOL[maskAt++];
  mask[3] = MASK_POOL[maskAt++];
  if ((mask[0] | mask[1] | mask[2] | mask[3]) === 0) mask[0] = 1;
}
