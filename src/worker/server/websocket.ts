/**
 * The uWS side of WebSocket proxying: App.ws('/*') behaviour. The upgrade handler is app.ts's
 * (the request pipeline, with a WebSocketExchange); the socket handlers here hand each event to
 * the connection's Tunnel (proxy/websocket-tunnel.ts). uWS sends a GET carrying a
 * Sec-WebSocket-Key here and every other request to app.any.
 *
 * Compression is off on both sides: uWS offers no permessage-deflate and the upstream is asked
 * for none, so frames pass without being inflated and deflated again.
 */
import { COMPRESSION_DISABLED, type UpgradeContext, type UpgradeRequest, type UpgradeResponse, type WebSocketBehavior } from './websocket-uws';
import { limits, closeAllTunnels, type ClientSocket, type TunnelRef } from '../proxy/websocket-tunnel';

export function webSocketBehavior(upgrade: (res: UpgradeResponse, req: UpgradeRequest, context: UpgradeContext) => void): WebSocketBehavior<TunnelRef> {
  return {
    compression: COMPRESSION_DISABLED,
    maxPayloadLength: limits.uwsMaxPayload,
    maxBackpressure: limits.maxBackpressure,
    idleTimeout: limits.idleTimeoutS,
    sendPingsAutomatically: true,
    upgrade,
    open: onOpen,
    message: onMessage,
    drain: onDrain,
    close: onClose,
    ping: onPing,
    pong: onPong,
  };
}

function onOpen(ws: ClientSocket): void { ws.getUserData().tunnel.clientOpened(ws); }
function onMessage(ws: ClientSocket, message: ArrayBuffer, isBinary: boolean): void { ws.getUserData().tunnel.fromClient(message, isBinary); }
function onDrain(ws: ClientSocket): void { ws.getUserData().tunnel.clientDrained(ws); }
function onClose(ws: ClientSocket, code: number, message: ArrayBuffer): void { ws.getUserData().tunnel.clientClosed(code, message); }
function onPing(ws: ClientSocket, message: ArrayBuffer): void { ws.getUserData().tunnel.clientPing(message); }
function onPong(ws: ClientSocket, message: ArrayBuffer): void { ws.getUserData().tunnel.clientPong(message); }

const WEBSOCKET_TOKEN = /(^|[\s,])websocket($|[\s,])/i;

/**
 * uWS takes any GET with a 24-byte Sec-WebSocket-Key for a handshake. Without `Upgrade:
 * websocket` it is none (RFC 6455 §4.2.1): it is yielded to App.any and proxied as a plain request.
 */
export function yieldedNonHandshake(req: UpgradeRequest): boolean {
  if (WEBSOCKET_TOKEN.test(req.getHeader('upgrade'))) return false;
  req.setYield(true);
  return true;
}

/** Graceful shutdown: 1001 to every open WebSocket of this worker, and to those still opening. */
export function closeWebSockets(): void {
  closeAllTunnels();
}
