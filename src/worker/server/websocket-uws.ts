/**
 * The part of uWebSockets.js's WebSocket API the gateway uses (App.ws, res.upgrade, the socket),
 * typed here beside uws.ts's HTTP side. Both builds (20.30, 20.57) have all of it.
 */
import type { HttpRequest, HttpResponse, RecognizedString, TemplatedApp } from './uws';

/** The upgrade handler's third argument: MUST be handed back to res.upgrade unchanged. */
export type UpgradeContext = object;

/** ws.send's result: sent, buffered (backpressure; it drains by itself), or dropped (over maxBackpressure). */
export const SEND = { BACKPRESSURE: 0, SUCCESS: 1, DROPPED: 2 } as const;

export interface UwsWebSocket<U> {
  send(message: RecognizedString, isBinary?: boolean, compress?: boolean): number;
  getBufferedAmount(): number;
  /** Close frame with code and reason; calls the close handler at once. */
  end(code?: number, shortMessage?: RecognizedString): void;
  /** TCP close without a close frame; calls the close handler (code 1006) at once. */
  close(): void;
  ping(message?: RecognizedString): number;
  cork(cb: () => void): UwsWebSocket<U>;
  /**
   * The object given to res.upgrade. 20.30 copies that object's own properties onto the socket
   * and returns the socket itself; later builds return the object: only read its properties.
   */
  getUserData(): U;
}

export interface UpgradeRequest extends HttpRequest {
  /** Hands the request on to the next matching handler (App.any) when this one returns. */
  setYield(y: boolean): HttpRequest;
}

export interface UpgradeResponse extends HttpResponse {
  upgrade<U>(userData: U, secWebSocketKey: RecognizedString, secWebSocketProtocol: RecognizedString, secWebSocketExtensions: RecognizedString, context: UpgradeContext): void;
}

export interface WebSocketBehavior<U> {
  compression?: number;
  maxPayloadLength?: number;
  idleTimeout?: number;
  maxBackpressure?: number;
  closeOnBackpressureLimit?: boolean;
  sendPingsAutomatically?: boolean;
  upgrade?: (res: UpgradeResponse, req: UpgradeRequest, context: UpgradeContext) => void;
  open?: (ws: UwsWebSocket<U>) => void;
  message?: (ws: UwsWebSocket<U>, message: ArrayBuffer, isBinary: boolean) => void;
  drain?: (ws: UwsWebSocket<U>) => void;
  close?: (ws: UwsWebSocket<U>, code: number, message: ArrayBuffer) => void;
  ping?: (ws: UwsWebSocket<U>, message: ArrayBuffer) => void;
  pong?: (ws: UwsWebSocket<U>, message: ArrayBuffer) => void;
}

export interface WebSocketApp extends TemplatedApp {
  ws<U>(pattern: string, behavior: WebSocketBehavior<U>): TemplatedApp;
}

/** uWS.DISABLED: no permessage-deflate offered or accepted. */
export const COMPRESSION_DISABLED = 0;
