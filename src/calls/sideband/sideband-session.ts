import { Logger } from '@nestjs/common';
import WebSocket from 'ws';
import { CALL_EVENTS } from '../../events/call-event-types';
import type { CallBehaviour } from '../rules/call-behaviour';
import type {
  CallEndReason,
  ControlOutcome,
  SidebandState,
  ToolCallRecord,
  TranscriptTurn,
  TransferRecord,
} from '../store/call-store';
import type { CallToolRunner, ToolRunResult } from '../tools/call-tool-runner';
import type { CallJournal } from './call-journal';
import type { SidebandOptions } from './sideband.options';
import type { ClientEvent, SidebandEvent, SidebandProtocol } from './sideband-protocol';

/**
 * Bounds on what one call keeps, so a long call (or a sideband sending without end) cannot grow
 * its record and this process's memory without limit: the last turns and digits are kept (the
 * last words matter most), each turn cut with "…". The events still carry every turn.
 */
export const MAX_TURN_CHARS = 10_000;
export const MAX_TRANSCRIPT_TURNS = 1000;
export const MAX_DTMF_ENTRIES = 1000;
const MAX_DTMF_DIGITS = 64;
/** A connection open this long was a working one: a drop after it starts a new loss. */
const STABLE_CONNECTION_MS = 2000;

/** The answered call a session belongs to, as the decision and the announcement said. */
export interface AnsweredCall {
  call_id: string;
  surface_call_id: string;
  from?: string;
  to?: string;
  sip_headers: { name: string; value: string }[];
  rule?: string;
  behaviour: CallBehaviour;
  answered_at: string;
  /**
   * The owner this session took the call over from (it died or shut down): the greeting was
   * said already, and function calls recorded before are not run again.
   */
  adopted_from?: string;
}

export interface SessionDeps {
  protocol: SidebandProtocol;
  apiKey: string;
  baseURL: string;
  journal: CallJournal;
  runner?: CallToolRunner;
  options: Required<Omit<SidebandOptions, 'maxCalls' | 'leaseMs' | 'redactNumbers'>>;
  owner: string;
  redact: (text: string) => string;
  /** Whether `redact` masks numbers (then keyed digits are masked across entries too). */
  redacting?: boolean;
  /** Called once, when the session is over: the call ended, or shutdown (`ended` false). */
  onFinished: (ended: boolean) => void;
}

/** A turn being said, piece by piece. */
interface PendingTurn {
  speaker: 'caller' | 'agent';
  text: string;
  at: string;
  timer?: NodeJS.Timeout;
}

/**
 * The sideband of one answered call: a WebSocket to the call on its surface, held from the
 * accept until the call ends. It greets the caller, runs each function call once through the
 * tool runner and sends its output back, keeps transcript turns (when the rule asks), DTMF and
 * transfers in the call record, and reconnects when the connection drops while the call lives.
 *
 * How the end is known: Live says it (`session.closed` with a reason). Realtime has no end
 * event, the socket just closes; the session then tries to reconnect, and a refusal saying the
 * call is gone (404), or no connection for `reconnectWindowMs`, ends the call `inferred: true`.
 */
export class SidebandSession {
  private readonly logger = new Logger('Sideband');
  private socket?: WebSocket;
  private readonly outbox: ClientEvent[] = [];
  private readonly seenToolCalls = new Set<string>();
  private readonly running = new Map<string, AbortController>();
  private readonly pending = new Map<string, PendingTurn>();
  /**
   * Keyed turns (Realtime's agent items) already recorded from their pieces because they paused
   * past `turnIdleMs`: the whole turn that comes later corrects that entry, not a second one.
   */
  private readonly flushedByKey = new Map<string, TranscriptTurn>();
  /** Keyed digits as keyed, only while redacting (in memory, never recorded as such). */
  private readonly keyedRaw: { at: string; digits: string }[] = [];
  private greeted = false;
  private finished = false;
  private detached = false;
  private lostSince?: number;
  /** When the current connection opened: only one that lasts ends a loss (see `closed`). */
  private openedAt?: number;
  private attempts = 0;
  private reconnectTimer?: NodeJS.Timeout;
  /** Set when we ended the call (hangup, transfer): the close that follows is that. */
  private endingBy?: CallEndReason;
  private connects = 0;

  constructor(
    readonly call: AnsweredCall,
    private readonly deps: SessionDeps,
  ) {}

  get surface() {
    return this.deps.protocol.surface;
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  start(): void {
    if (this.call.adopted_from !== undefined) this.adopt(this.call.adopted_from);
    else this.setState('connecting');
    this.connect();
  }

  /**
   * Taking over a call another instance held: nothing it did is done twice. The greeting was
   * said; each function call recorded is not run again; one that was running when the owner
   * died (its outcome unknown) gets an output saying so, so the model does not wait forever.
   */
  private adopt(from: string): void {
    this.greeted = true;
    const adoptedAt = new Date().toISOString();
    const calls = this.deps.journal.current.tool_calls ?? [];
    for (const call of calls) this.seenToolCalls.add(call.tool_call_id);
    const interrupted = calls.filter((call) => call.outcome === 'running');
    for (const call of interrupted) {
      const output = JSON.stringify({
        error: 'interrupted',
        message: `the instance running ${call.name} stopped before it answered; it was not run again, and whether it took effect is unknown`,
      });
      this.replaceToolCall({ ...call, outcome: 'error', output });
      this.outbox.push(...this.deps.protocol.toolOutput(call.tool_call_id, output));
    }
    this.setState('reconnecting', {
      adopted_from: from,
      adopted_at: adoptedAt,
      note: `adopted from ${from}, whose lease had expired or who let go on shutdown`,
    });
  }

  /** An operator's text into the conversation; false when the socket is not open now. */
  say(text: string): boolean {
    if (!this.isOpen || this.finished) return false;
    this.send(this.deps.protocol.operatorMessage(text));
    this.addTurn('operator', text);
    return true;
  }

  /** We hung up or transferred the call (an operator or a tool): the close that follows is that. */
  noteEnding(reason: 'we_hung_up' | 'transferred'): void {
    this.endingBy ??= reason;
    // The sideband may close before OpenAI's answer to the request is back: an end that was
    // only inferred (or unknown) is then corrected to what we know.
    const ended = this.deps.journal.current.ended;
    if (this.finished && ended && (ended.inferred || ended.reason === 'unknown'))
      this.deps.journal.change({
        ended: { ...ended, reason, inferred: false, detail: `${ended.detail ?? ''}; ${reason}` },
      });
  }

  /** A transfer was asked for (by an operator or a tool); when OpenAI took it, the call ends so. */
  noteTransfer(transfer: TransferRecord & { outcome: ControlOutcome }): void {
    this.deps.journal.append('transfers', transfer);
    if (!transfer.outcome.ok) return;
    this.deps.journal.publish(CALL_EVENTS.transferred, {
      target_uri: transfer.target_uri,
      by: transfer.by,
    });
    this.noteEnding('transferred');
  }

  /**
   * Shutdown: the socket is closed cleanly; the call itself goes on without us (another
   * instance adopts it). `lost`: another instance adopted it already (this one's lease ran out),
   * and the record is its now: nothing is written.
   */
  async detach(lost = false): Promise<void> {
    if (this.finished) return;
    this.detached = true;
    this.finished = true;
    clearTimeout(this.reconnectTimer);
    if (!lost) this.flushPendingTurns();
    for (const controller of this.running.values()) controller.abort();
    this.socket?.close(1001, 'going away');
    if (!lost)
      this.setState('closed', {
        note: 'closed on shutdown: the call may go on without this instance',
      });
    this.deps.onFinished(false);
    await this.deps.journal.settled();
  }

  private connect(): void {
    const { protocol, apiKey, baseURL } = this.deps;
    let socket: WebSocket;
    try {
      socket = new WebSocket(protocol.url(baseURL, this.call.surface_call_id), {
        headers: { Authorization: `Bearer ${apiKey}` },
        handshakeTimeout: this.deps.options.connectTimeoutMs,
      });
    } catch (error) {
      // A base URL no WebSocket can reach: nothing to retry.
      return this.end('unknown', true, `no sideband: ${(error as Error).message}`);
    }
    this.socket = socket;
    let refusedWith: number | undefined;
    socket.on('open', () => this.opened());
    socket.on('message', (data) => this.received(data));
    socket.on('unexpected-response', (_request, response) => {
      refusedWith = response.statusCode;
      response.resume();
      socket.terminate();
    });
    socket.on('error', () => undefined); // the close that follows says what to do
    socket.on('close', () => {
      if (this.socket === socket) this.closed(refusedWith);
    });
  }

  private opened(): void {
    // An adopted sideband's first connection is a reconnect of the call's sideband.
    const first = this.connects === 0 && this.call.adopted_from === undefined;
    this.connects++;
    this.openedAt = Date.now();
    const current = this.deps.journal.current.sideband;
    this.setState('open', {
      reconnects: first ? 0 : (current?.reconnects ?? 0) + 1,
      opened_at: current?.opened_at ?? new Date().toISOString(),
      note: undefined,
    });
    if (!this.greeted && this.call.behaviour.greeting) {
      this.greeted = true;
      this.send(this.deps.protocol.greet(this.call.behaviour.greeting));
    }
    const waiting = this.outbox.splice(0);
    if (waiting.length > 0) this.send(waiting);
  }

  private received(data: WebSocket.RawData): void {
    let message: unknown;
    try {
      message = JSON.parse(String(data));
    } catch {
      return; // not JSON: nothing of ours
    }
    if (typeof message !== 'object' || message === null) return;
    for (const event of this.deps.protocol.read(message as Record<string, unknown>))
      this.handle(event);
  }

  private handle(event: SidebandEvent): void {
    if (this.finished) return;
    switch (event.kind) {
      case 'transcript':
        return this.wholeTurn(event.speaker, event.text, event.key);
      case 'transcript_delta':
        return this.turnPiece(event.speaker, event.text, event.key);
      case 'function_call':
        this.runTool(event.tool_call_id, event.name, event.arguments).catch((error: unknown) =>
          this.logger.error(
            `call ${this.call.call_id}: function call ${event.tool_call_id} failed: ${(error as Error).message}`,
          ),
        );
        return;
      case 'dtmf':
        return this.keyed(event.digits.slice(0, MAX_DTMF_DIGITS));
      case 'error': {
        const note = `error event: ${event.code ? `${event.code}: ` : ''}${event.message}`.slice(
          0,
          500,
        );
        this.logger.warn(`call ${this.call.call_id}: sideband ${note}`);
        const state = this.deps.journal.current.sideband?.state;
        this.setState(state === 'not_opened' || !state ? 'open' : state, { note });
        return;
      }
      case 'closed':
        return this.end(
          this.endingBy && event.reason !== 'session_expired' ? this.endingBy : event.reason,
          false,
          `session.closed: ${event.detail}`,
        );
      default: {
        const unreachable: never = event;
        throw new Error(`unknown sideband event ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /**
   * DTMF digits. Realtime sends one event per key, so with redaction on a number keyed digit by
   * digit is masked as one run across the entries (all but its last four digits, as a number
   * said), the earlier entries rewritten as the run grows. The event cannot wait to learn
   * whether a digit starts a number: with redaction on, `call.dtmf` carries its digits masked.
   */
  private keyed(digits: string): void {
    const at = new Date().toISOString();
    if (!this.deps.redacting) {
      this.deps.journal.append('dtmf', { at, digits }, MAX_DTMF_ENTRIES);
      this.deps.journal.publish(CALL_EVENTS.dtmf, { digits });
      return;
    }
    this.keyedRaw.push({ at, digits });
    if (this.keyedRaw.length > MAX_DTMF_ENTRIES) this.keyedRaw.shift();
    const masked = this.deps.redact(this.keyedRaw.map((entry) => entry.digits).join(''));
    let from = 0;
    const entries = this.keyedRaw.map((entry) => {
      const part = masked.slice(from, from + entry.digits.length);
      from += entry.digits.length;
      return { at: entry.at, digits: part };
    });
    this.deps.journal.change({ dtmf: entries });
    this.deps.journal.publish(CALL_EVENTS.dtmf, { digits: digits.replace(/\d/g, '*') });
  }

  /**
   * The socket closed. After our own hangup or transfer that is the end; otherwise the call may
   * still be live: reconnect, with a growing wait, until it works, the surface says the call is
   * gone (404), or `reconnectWindowMs` has passed.
   */
  private closed(refusedWith: number | undefined): void {
    if (this.finished) return;
    if (this.endingBy) return this.end(this.endingBy, false, 'the sideband closed after it');
    const now = Date.now();
    // A connection that lasted ends the loss before it; one closed at once (a far end that
    // upgrades and hangs up, e.g. for a call that is over) does not, or the session would
    // reconnect forever, never reaching `reconnectWindowMs`.
    if (this.openedAt !== undefined && now - this.openedAt >= STABLE_CONNECTION_MS) {
      this.lostSince = undefined;
      this.attempts = 0;
    }
    this.openedAt = undefined;
    this.lostSince ??= now;
    if (refusedWith === 404)
      return this.end(
        this.surface === 'realtime' ? 'caller_hung_up' : 'unknown',
        true,
        'the sideband closed and the call is gone (a reconnect was answered 404)',
      );
    if (refusedWith !== undefined && refusedWith >= 400 && refusedWith < 500 && refusedWith !== 429)
      return this.end('unknown', true, `a reconnect was refused with ${refusedWith}`);
    if (now - this.lostSince >= this.deps.options.reconnectWindowMs)
      return this.end(
        'connection_lost',
        true,
        `no sideband connection for ${this.deps.options.reconnectWindowMs} ms`,
      );
    const { reconnectBaseMs, reconnectMaxMs } = this.deps.options;
    const wait = Math.min(reconnectMaxMs, reconnectBaseMs * 2 ** this.attempts);
    this.attempts++;
    this.setState('reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), wait * (0.5 + Math.random() / 2));
  }

  private end(reason: CallEndReason, inferred: boolean, detail: string): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.reconnectTimer);
    this.flushPendingTurns();
    for (const controller of this.running.values()) controller.abort();
    const at = new Date();
    const duration_ms = Math.max(0, at.getTime() - Date.parse(this.call.answered_at));
    const ending = { at: at.toISOString(), reason, inferred, duration_ms, detail };
    this.setState('closed', { closed_at: ending.at });
    this.deps.journal.change({ ended: ending });
    this.deps.journal.publish(CALL_EVENTS.ended, { reason, inferred, duration_ms, detail });
    this.logger.log(
      `call ${this.call.call_id} ended: ${reason}${inferred ? ' (inferred)' : ''} after ${duration_ms} ms`,
    );
    const socket = this.socket;
    if (socket && socket.readyState === WebSocket.OPEN) socket.close(1000);
    this.deps.onFinished(true);
  }

  /**
   * One function call from the model, run once: a repeated `call_id` (the event again, or its
   * other form on Live) is ignored. Only tools the rule offers run; the output goes back to the
   * model even when the socket dropped meanwhile (it waits for the reconnect).
   */
  private async runTool(toolCallId: string, name: string, args: string): Promise<void> {
    if (this.seenToolCalls.has(toolCallId)) return;
    this.seenToolCalls.add(toolCallId);
    const started = Date.now();
    const entry: ToolCallRecord = {
      tool_call_id: toolCallId,
      name,
      arguments: parsedOrRaw(args),
      outcome: 'running',
      started_at: new Date(started).toISOString(),
    };
    this.deps.journal.append('tool_calls', entry);
    const result = await this.execute(toolCallId, name, args);
    if (result.outcome === 'duplicate') return;
    this.replaceToolCall({
      ...entry,
      output: result.output,
      outcome: result.outcome,
      duration_ms: result.duration_ms,
    });
    this.deps.journal.publish(CALL_EVENTS.toolCalled, {
      tool_call_id: toolCallId,
      name,
      outcome: result.outcome,
      duration_ms: result.duration_ms,
    });
    if (this.finished) return;
    this.send(this.deps.protocol.toolOutput(toolCallId, result.output));
  }

  private async execute(toolCallId: string, name: string, args: string): Promise<ToolRunResult> {
    const runner = this.deps.runner;
    if (!runner) {
      return {
        outcome: 'unknown_tool',
        output: JSON.stringify({
          error: 'unknown_tool',
          message: `the tool ${name} has no handler in this application`,
        }),
        duration_ms: 0,
      };
    }
    const controller = new AbortController();
    this.running.set(toolCallId, controller);
    const started = Date.now();
    try {
      // The runner validates, times out, refuses tools the rule does not offer, runs once.
      return await runner.run(
        { tool_call_id: toolCallId, name, arguments: args },
        {
          call_id: this.call.call_id,
          surface: this.surface,
          surface_call_id: this.call.surface_call_id,
          from: this.call.from,
          to: this.call.to,
          sip_headers: this.call.sip_headers,
          rule: this.call.rule,
          transfer_targets: this.call.behaviour.transfer_targets ?? [],
          tool_call_id: toolCallId,
          signal: controller.signal,
          offered: this.call.behaviour.call_tools ?? [],
        },
      );
    } catch (error) {
      // The runner promises not to throw; should it anyway, the model still gets an answer.
      return {
        outcome: 'error',
        output: JSON.stringify({ error: 'error', message: (error as Error).message }),
        duration_ms: Date.now() - started,
      };
    } finally {
      this.running.delete(toolCallId);
    }
  }

  private replaceToolCall(entry: ToolCallRecord): void {
    const list = this.deps.journal.current.tool_calls ?? [];
    this.deps.journal.change({
      tool_calls: list.map((one) => (one.tool_call_id === entry.tool_call_id ? entry : one)),
    });
  }

  /** A finished turn; on Realtime the agent's replaces the pieces gathered for it. */
  private wholeTurn(speaker: 'caller' | 'agent', text: string, key?: string): void {
    const pending = this.pending.get(key ?? speaker);
    if (pending) {
      clearTimeout(pending.timer);
      this.pending.delete(key ?? speaker);
    }
    const flushed = key === undefined ? undefined : this.flushedByKey.get(key);
    if (flushed) {
      this.flushedByKey.delete(key!);
      return this.correctTurn(flushed, text);
    }
    this.addTurn(speaker, text, pending?.at);
  }

  /** A turn recorded from its pieces gets its whole text (no second `call.transcript`). */
  private correctTurn(turn: TranscriptTurn, said: string): void {
    if (!this.call.behaviour.transcripts) return;
    const text = bounded(this.deps.redact(said));
    const list = this.deps.journal.current.transcript ?? [];
    if (!list.includes(turn) || turn.text === text) return;
    this.deps.journal.change({
      transcript: list.map((one) => (one === turn ? { ...turn, text } : one)),
    });
  }

  /**
   * A piece of a turn. Pieces gather until the turn is whole: the whole turn arrives (Realtime),
   * the other side speaks, nothing more comes for `turnIdleMs`, or the call ends (so the last
   * words are kept even when the end comes first).
   */
  private turnPiece(speaker: 'caller' | 'agent', text: string, key?: string): void {
    if (!this.call.behaviour.transcripts) return;
    const id = key ?? speaker;
    if (!key) {
      for (const [other, turn] of this.pending) if (turn.speaker !== speaker) this.flushTurn(other);
    }
    let turn = this.pending.get(id);
    if (!turn) {
      turn = { speaker, text: '', at: new Date().toISOString() };
      this.pending.set(id, turn);
    }
    // Past the bound more pieces are not kept (one over, so that the cut is marked).
    if (turn.text.length <= MAX_TURN_CHARS)
      turn.text = (turn.text + text).slice(0, MAX_TURN_CHARS + 1);
    clearTimeout(turn.timer);
    turn.timer = setTimeout(() => this.flushTurn(id, key), this.deps.options.turnIdleMs);
    turn.timer.unref();
  }

  /** Records a gathered turn; `key` when its whole text may still come (Realtime, idle). */
  private flushTurn(id: string, key?: string): void {
    const turn = this.pending.get(id);
    if (!turn) return;
    clearTimeout(turn.timer);
    this.pending.delete(id);
    if (turn.text.trim() === '') return;
    const earlier = key === undefined ? undefined : this.flushedByKey.get(key);
    if (earlier) {
      // More pieces of a turn already recorded: they extend it.
      this.flushedByKey.delete(key!);
      const whole = `${earlier.text} ${turn.text.trim()}`;
      const list = this.deps.journal.current.transcript ?? [];
      if (list.includes(earlier)) {
        const extended = { ...earlier, text: bounded(this.deps.redact(whole)) };
        this.deps.journal.change({
          transcript: list.map((one) => (one === earlier ? extended : one)),
        });
        this.rememberFlushed(key!, extended);
        return;
      }
    }
    const added = this.addTurn(turn.speaker, turn.text.trim(), turn.at);
    if (key !== undefined && added) this.rememberFlushed(key, added);
  }

  private rememberFlushed(key: string, turn: TranscriptTurn): void {
    this.flushedByKey.set(key, turn);
    // Only the last few items can still get their whole text.
    if (this.flushedByKey.size > 16)
      this.flushedByKey.delete(this.flushedByKey.keys().next().value!);
  }

  private flushPendingTurns(): void {
    for (const id of [...this.pending.keys()]) this.flushTurn(id);
  }

  private addTurn(
    speaker: 'caller' | 'agent' | 'operator',
    said: string,
    at?: string,
  ): TranscriptTurn | undefined {
    if (!this.call.behaviour.transcripts) return undefined;
    const text = bounded(this.deps.redact(said));
    const turn: TranscriptTurn = { at: at ?? new Date().toISOString(), speaker, text };
    this.deps.journal.append('transcript', turn, MAX_TRANSCRIPT_TURNS);
    this.deps.journal.publish(CALL_EVENTS.transcript, { speaker, text });
    return turn;
  }

  /** Sends now, or after the reconnect when the socket is down. */
  private send(events: ClientEvent[]): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      this.outbox.push(...events);
      return;
    }
    for (const event of events) socket.send(JSON.stringify(event));
  }

  private setState(
    state: 'connecting' | 'open' | 'reconnecting' | 'closed',
    more: Partial<SidebandState> = {},
  ): void {
    const current = this.deps.journal.current.sideband;
    this.deps.journal.change({
      sideband: {
        reconnects: 0,
        ...current,
        owner: this.deps.owner,
        ...more,
        state,
      },
    });
  }
}

/** A turn's text within `MAX_TURN_CHARS`, its end marked "…" when cut. */
function bounded(text: string): string {
  return text.length > MAX_TURN_CHARS ? `${text.slice(0, MAX_TURN_CHARS - 1)}…` : text;
}

/**
 * The arguments as the record keeps them: parsed when they are JSON; a text past
 * `MAX_TURN_CHARS` as that text cut (a model's runaway arguments must not grow the record).
 */
function parsedOrRaw(text: string): unknown {
  if (text.length > MAX_TURN_CHARS) return bounded(text);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
