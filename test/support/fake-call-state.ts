/**
 * OpenAI's side of ringing calls, for the fake: which pending INVITE each id belongs to on each
 * surface, what a well-formed request of each surface looks like, and what happens to a call
 * once it is answered. The first successful accept on either surface picks that surface; the
 * other surface's accept then fails (409), and a call that is gone answers 404
 * `call_id_not_found`, as OpenAI does.
 */
export type Surface = 'realtime' | 'live';

export interface ControlPath {
  surface: Surface;
  id: string;
  verb: 'accept' | 'reject' | 'refer' | 'hangup';
}

export interface StateReply {
  status: number;
  body?: unknown;
}

interface PhysicalCall {
  ids: Partial<Record<Surface, string>>;
  state: 'ringing' | 'answered' | 'gone';
  answeredOn?: Surface;
}

const ROUTES: Record<Surface, RegExp> = {
  realtime: /^\/v1\/realtime\/calls\/([^/]+)\/(accept|reject|refer|hangup)$/,
  live: /^\/v1\/live\/sessions\/([^/]+)\/(accept|reject|refer|hangup)$/,
};

/** Which surface, call and verb a request path names; undefined for any other path. */
export function parseControlPath(path: string): ControlPath | undefined {
  for (const surface of ['realtime', 'live'] as const) {
    const match = ROUTES[surface].exec(path);
    if (match) {
      const verb = match[2] as ControlPath['verb'];
      return { surface, id: decodeURIComponent(match[1]), verb };
    }
  }
  return undefined;
}

const invalid = (message: string): StateReply => ({
  status: 400,
  body: { error: { type: 'invalid_request_error', message } },
});

/** What OpenAI's API reference requires of each request's body; undefined when it is fine. */
export function checkBody(path: ControlPath, body: unknown): StateReply | undefined {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (path.verb === 'refer' && typeof fields.target_uri !== 'string')
    return invalid('target_uri is required');
  if (path.surface === 'realtime') {
    if (path.verb === 'accept' && fields.type !== 'realtime')
      return invalid("session type must be 'realtime'");
    return undefined;
  }
  if (path.verb === 'reject') {
    const code = fields.status_code;
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 300 || code > 699)
      return invalid('status_code is required: an integer between 300 and 699');
  }
  if (path.verb === 'accept') {
    const session = fields.session as Record<string, unknown> | undefined;
    if (typeof session !== 'object' || session === null) return invalid('session is required');
    if (session.type !== 'live') return invalid("session.type must be 'live'");
    if (typeof session.model !== 'string') return invalid('session.model is required');
    const audio = session.audio as { format?: unknown } | undefined;
    if (audio?.format !== undefined) return invalid('audio.format must be omitted for SIP');
    if (session.tools !== undefined)
      return invalid('tools are not a field of a Live session: put them under delegation');
  }
  return undefined;
}

export class FakeCallState {
  private readonly calls: PhysicalCall[] = [];

  /** OpenAI announces one pending INVITE under these ids (one per surface that offers it). */
  offer(ids: Partial<Record<Surface, string>>): void {
    this.calls.push({ ids, state: 'ringing' });
  }

  /** The caller hangs up: every later request about the call answers 404. */
  hangUp(id: string): void {
    const call = this.find(id);
    if (call) call.state = 'gone';
  }

  /** The call was offered and is over (hung up, rejected, transferred): its sideband is refused. */
  isGone(id: string): boolean {
    return this.find(id)?.state === 'gone';
  }

  /** The surface that answered the call, if any. */
  answeredOn(id: string): Surface | undefined {
    return this.find(id)?.answeredOn;
  }

  /**
   * The answer to a well-formed request about an offered call, and the call's new state;
   * undefined for an id never offered (the fake then answers as scripted, by default 200).
   */
  answer(path: ControlPath): StateReply | undefined {
    const call = this.find(path.id, path.surface);
    if (!call) return undefined;
    const gone: StateReply = {
      status: 404,
      body: { error: { code: 'call_id_not_found', message: `Call ${path.id} not found` } },
    };
    if (call.state === 'gone') return gone;
    if (call.state === 'answered' && call.answeredOn !== path.surface) {
      // The other surface won: this one's session is no longer pending.
      return path.verb === 'accept'
        ? {
            status: 409,
            body: {
              error: {
                code: 'call_already_accepted',
                message: `the call was accepted on the ${call.answeredOn} surface`,
              },
            },
          }
        : gone;
    }
    switch (path.verb) {
      case 'accept':
        if (call.state === 'answered')
          return {
            status: 409,
            body: { error: { code: 'call_already_accepted', message: 'already accepted' } },
          };
        call.state = 'answered';
        call.answeredOn = path.surface;
        return { status: 200 };
      case 'reject':
        if (call.state === 'answered') return invalid('the call was already answered');
        call.state = 'gone';
        return { status: 200 };
      case 'refer':
      case 'hangup':
        call.state = 'gone';
        return { status: 200 };
    }
  }

  private find(id: string, surface?: Surface): PhysicalCall | undefined {
    return this.calls.find((call) =>
      surface ? call.ids[surface] === id : Object.values(call.ids).includes(id),
    );
  }
}
