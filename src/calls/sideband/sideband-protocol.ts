import type { CallEndReason } from '../store/call-store';
import type { SurfaceName } from '../surfaces/surface-name';

/** A server event of either surface's sideband, as the session reads it. */
export type SidebandEvent =
  /** A whole turn of what was said. */
  | { kind: 'transcript'; speaker: 'caller' | 'agent'; text: string; key?: string }
  /** A piece of a turn still being said (Live sends only these; Realtime the agent's). */
  | { kind: 'transcript_delta'; speaker: 'caller' | 'agent'; text: string; key?: string }
  | { kind: 'function_call'; tool_call_id: string; name: string; arguments: string }
  | { kind: 'dtmf'; digits: string }
  | { kind: 'error'; message: string; code?: string }
  /** The surface says the call is over (Live's `session.closed`). */
  | { kind: 'closed'; reason: CallEndReason; detail: string };

/** A client event to send, as JSON. */
export type ClientEvent = Record<string, unknown>;

/**
 * One surface's sideband protocol: where its WebSocket is, how its server events read, and how
 * to say things on it. Pure functions: the session (sideband-session.ts) does the I/O.
 */
export interface SidebandProtocol {
  readonly surface: SurfaceName;
  /** The WebSocket URL of the call `id`, from the API's base URL (`https://.../v1`). */
  url(baseURL: string, id: string): string;
  /** What a server message means; empty when it is nothing the session acts on. */
  read(message: Record<string, unknown>): SidebandEvent[];
  /** The agent speaks first, with this instruction. */
  greet(text: string): ClientEvent[];
  /** A tool's output goes back to the model, which then answers. */
  toolOutput(toolCallId: string, output: string): ClientEvent[];
  /** An operator's text goes into the conversation. */
  operatorMessage(text: string): ClientEvent[];
  /** Ends the session from our side, if the surface has a way (Live `session.close`). */
  close(): ClientEvent[];
}

/** `https://api.openai.com/v1` -> `wss://api.openai.com/v1` (and http -> ws, for the fake). */
export function webSocketBase(baseURL: string): string {
  const url = new URL(baseURL);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  return url.toString().replace(/\/+$/, '');
}

export function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
