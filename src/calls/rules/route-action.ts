import { checkTargetUri } from '../sip/uri-check';
import { isSurfaceName, SurfaceName } from '../surfaces/surface-name';
import { markCallerText } from './caller-data';
import {
  CALL_BEHAVIOUR_KEYS,
  CallBehaviour,
  compileBehaviour,
  withoutBehaviour,
} from './call-behaviour';
import { ConditionError, ConditionErrors } from './condition.compiler';
import { compileGlob, LinearPattern } from './patterns';
import { asUriComponent, Placement, Placeholder, RenderContext, Template } from './template';

/** The session config of each surface an accept names, every template filled in. */
export type AcceptSessions = Partial<Record<SurfaceName, Record<string, unknown>>>;

/**
 * What Switchboard will ask OpenAI to do with the call, with every template filled in. An accept
 * is either a Realtime session (`session`: the form every rule had before the Live surface),
 * or a session per surface it may answer on (`sessions`), with the one it `prefer`s.
 */
export type RenderedAction =
  | ({ type: 'accept'; session: Record<string, unknown> } & CallBehaviour)
  | ({ type: 'accept'; sessions: AcceptSessions; prefer?: SurfaceName } & CallBehaviour)
  | { type: 'reject'; status_code: number }
  | { type: 'refer'; target_uri: string };

/** The keys that make an accept name its surfaces (`accept: { live: {...}, prefer: live }`). */
const SURFACE_ACCEPT_KEYS = ['realtime', 'live', 'prefer'];

export const DEFAULT_REJECT_STATUS = 603;
const MAX_ALLOWED_TARGETS = 100;

/** An action compiled once: its templates parsed, ready to render per call. */
export interface CompiledAction {
  type: RenderedAction['type'];
  /** Throws when the action cannot be rendered for this call: the rule set takes `on_error`. */
  render(context: RenderContext): RenderedAction;
  /** Where caller data flows unconstrained into the session or the target (shown on save). */
  warnings: string[];
}

/** `path` is where the action sits, for error messages (`rules[2].action`). */
export function compileAction(raw: Record<string, unknown>, path: string): CompiledAction {
  const kinds = ['accept', 'reject', 'refer'].filter((kind) => raw[kind] !== undefined);
  const extra = Object.keys(raw).filter((key) => !['accept', 'reject', 'refer'].includes(key));
  if (kinds.length !== 1 || extra.length > 0) {
    throw new Error(`${path}: must hold exactly one of accept, reject, refer`);
  }
  const kind = kinds[0] as RenderedAction['type'];
  const body = raw[kind] as Record<string, unknown>;
  if (kind === 'reject') {
    onlyKeys(body, ['status_code'], `${path}.reject`);
    const status = (body.status_code as number | undefined) ?? DEFAULT_REJECT_STATUS;
    return {
      type: 'reject',
      render: () => ({ type: 'reject', status_code: status }),
      warnings: [],
    };
  }
  if (kind === 'refer') return compileRefer(body, `${path}.refer`);
  if (Object.keys(body).some((key) => SURFACE_ACCEPT_KEYS.includes(key)))
    return compileSurfaceAccept(body, `${path}.accept`);
  const { behaviour, mistakes } = compileBehaviour(body, `${path}.accept`);
  if (mistakes.length > 0)
    throw mistakes.length === 1 ? mistakes[0] : new ConditionErrors(mistakes);
  const warnings: string[] = [...behaviour.warnings];
  const session = compileValue(
    { type: 'realtime', ...withoutBehaviour(body) },
    `${path}.accept`,
    warnings,
  );
  return {
    type: 'accept',
    render: (context) => ({
      type: 'accept',
      session: session(context) as Record<string, unknown>,
      ...behaviour.render(context),
    }),
    warnings,
  };
}

/**
 * `accept: { live: {...}, realtime: {...}, prefer: live }`: a session config per surface the call
 * may be answered on (one or both), and, with both, optionally the one to wait for. Each session
 * is checked against what its surface takes, and every string in it may be a template.
 */
function compileSurfaceAccept(body: Record<string, unknown>, path: string): CompiledAction {
  onlyKeys(body, [...SURFACE_ACCEPT_KEYS, ...CALL_BEHAVIOUR_KEYS], path);
  const { behaviour, mistakes } = compileBehaviour(body, path);
  const given = (['realtime', 'live'] as const).filter((surface) => body[surface] !== undefined);
  if (given.length === 0)
    mistakes.push(
      new ConditionError(
        path,
        'names no surface: give realtime, live or both (each a session config)',
      ),
    );
  for (const surface of given) {
    const session = body[surface];
    if (typeof session !== 'object' || session === null || Array.isArray(session))
      mistakes.push(
        new ConditionError(`${path}.${surface}`, 'must be a session config (an object)'),
      );
    else if (surface === 'live')
      mistakes.push(...liveSessionMistakes(session as Record<string, unknown>, `${path}.live`));
  }
  const prefer = body.prefer;
  if (prefer !== undefined && !(isSurfaceName(prefer) && given.includes(prefer)))
    mistakes.push(
      new ConditionError(
        `${path}.prefer`,
        `must name a surface this accept gives a session for (${given.join(', ')})`,
      ),
    );
  if (mistakes.length > 0)
    throw mistakes.length === 1 ? mistakes[0] : new ConditionErrors(mistakes);
  const warnings: string[] = [...behaviour.warnings];
  const sessions = given.map(
    (surface) =>
      [
        surface,
        compileValue(
          { type: surface, ...(body[surface] as object) },
          `${path}.${surface}`,
          warnings,
        ),
      ] as const,
  );
  return {
    type: 'accept',
    render: (context) => ({
      type: 'accept',
      sessions: Object.fromEntries(
        sessions.map(([surface, session]) => [surface, session(context)]),
      ) as AcceptSessions,
      ...(prefer === undefined ? {} : { prefer: prefer as SurfaceName }),
      ...behaviour.render(context),
    }),
    warnings,
  };
}

/**
 * What a Live session takes over SIP, checked on save: a model (`gpt-live-1`), no audio format
 * (SIP negotiates it), and no tools on the voice model (they belong to its delegation).
 */
function liveSessionMistakes(session: Record<string, unknown>, path: string): ConditionError[] {
  const mistakes: ConditionError[] = [];
  if (session.type !== undefined && session.type !== 'live')
    mistakes.push(
      new ConditionError(`${path}.type`, `a Live session's type is "live" (the default)`),
    );
  if (typeof session.model !== 'string' || session.model.length === 0)
    mistakes.push(
      new ConditionError(`${path}.model`, 'required, the Live model (e.g. gpt-live-1)'),
    );
  if (session.tools !== undefined)
    mistakes.push(
      new ConditionError(
        `${path}.tools`,
        'a Live voice model takes no tools; give them to its delegation: { type: responses, responses: { model, instructions, tools } }',
      ),
    );
  const audio = session.audio as Record<string, unknown> | undefined;
  for (const [where, part] of [
    ['audio', audio],
    ['audio.input', audio?.input],
    ['audio.output', audio?.output],
  ] as const) {
    if (typeof part === 'object' && part !== null && 'format' in part)
      mistakes.push(
        new ConditionError(
          `${path}.${where}.format`,
          'must be omitted for SIP calls (SIP negotiates it)',
        ),
      );
  }
  return mistakes;
}

/**
 * A transfer target. Caller data may steer it only as far as the rule allows: a placeholder
 * constrained with `oneof`/`match`, or a rendered URI among `allowed_targets`. Anything else,
 * and any rendered text that is not a valid URI, throws: the call takes `on_error`.
 */
function compileRefer(body: Record<string, unknown>, path: string): CompiledAction {
  onlyKeys(body, ['target_uri', 'allowed_targets'], path);
  const target = parseTemplate(String(body.target_uri), `${path}.target_uri`);
  const allowed = compileAllowedTargets(body.allowed_targets, `${path}.allowed_targets`);
  if (/\s/.test(target.literalText))
    throw new Error(`${path}.target_uri: white space outside a placeholder makes no valid URI`);
  const permits = (uri: string) => !allowed || allowed.some(({ pattern }) => pattern.match(uri));
  if (target.isStatic) {
    const problem = checkTargetUri(target.source);
    if (problem) throw new Error(`${path}.target_uri: "${target.source}" ${problem}`);
    if (!permits(target.source))
      throw new Error(`${path}.target_uri: "${target.source}" is not among allowed_targets`);
  }
  const warnings = allowed
    ? []
    : unvetted(target).map(
        (p) =>
          `${path}.target_uri builds the target from caller data {{${p.text}}} without oneof or match, and the refer lists no allowed_targets: calls it matches take on_error. Constrain it (e.g. {{${p.path} | match: "2\\d\\d"}}) or list allowed_targets`,
      );
  const intoUri: Placement = (resolution, placeholder) => {
    if (resolution.status === 'rejected')
      throw new Error(`target_uri: {{${placeholder.text}}} ${resolution.reason}`);
    if (resolution.status === 'unvetted' && !allowed)
      throw new Error(
        `target_uri: {{${placeholder.text}}} is caller data without oneof or match, and the refer lists no allowed_targets`,
      );
    return asUriComponent(resolution.value);
  };
  return {
    type: 'refer',
    render(context) {
      if (target.isStatic) return { type: 'refer', target_uri: target.source }; // checked above
      const uri = target.render(context, intoUri);
      const problem = checkTargetUri(uri);
      if (problem) throw new Error(`rendered target_uri "${uri}" ${problem}`);
      if (!permits(uri))
        throw new Error(
          `rendered target_uri "${uri}" is not among allowed_targets (${allowed!.map((a) => a.source).join(', ')})`,
        );
      return { type: 'refer', target_uri: uri };
    },
    warnings,
  };
}

/** Globs (`*` any run, `?` one character) over the whole rendered URI, ignoring case. */
function compileAllowedTargets(
  raw: unknown,
  path: string,
): { source: string; pattern: LinearPattern }[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_ALLOWED_TARGETS)
    throw new Error(`${path}: must be a list of 1 to ${MAX_ALLOWED_TARGETS} URI patterns`);
  return raw.map((item, i) => {
    if (typeof item !== 'string' || !/^(sips?|tel):\S+$/i.test(item))
      throw new Error(
        `${path}[${i}]: must be a sip:, sips: or tel: URI pattern such as "sip:2??@pbx.example.com"`,
      );
    try {
      return { source: item, pattern: compileGlob(item, false) };
    } catch (error) {
      throw new Error(`${path}[${i}]: ${(error as Error).message}`);
    }
  });
}

/**
 * In a session, a vetted or trusted value goes in as it is; unvetted caller text goes in
 * quoted and labelled as caller-supplied; a value that failed its constraint goes in empty.
 */
const intoText: Placement = (resolution) => {
  if (resolution.status === 'rejected') return '';
  if (resolution.status === 'unvetted' && resolution.value !== '')
    return markCallerText(resolution.value);
  return resolution.value;
};

type Renderer = (context: RenderContext) => unknown;

/** Walks the session config: every string becomes a template; everything else is copied. */
function compileValue(value: unknown, path: string, warnings: string[]): Renderer {
  if (typeof value === 'string') {
    const template = parseTemplate(value, path);
    for (const p of unvetted(template)) {
      warnings.push(
        `${path} inserts caller data {{${p.text}}} without oneof or match: it is sent marked as [caller-supplied text: "..."]. Constrain it (e.g. {{${p.path} | oneof: a, b}}) if the value is meant to steer the agent`,
      );
    }
    return template.isStatic ? () => value : (context) => template.render(context, intoText);
  }
  if (Array.isArray(value)) {
    const items = value.map((item, i) => compileValue(item, `${path}[${i}]`, warnings));
    return (context) => items.map((item) => item(context));
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(
      ([key, item]) => [key, compileValue(item, `${path}.${key}`, warnings)] as const,
    );
    return (context) => Object.fromEntries(entries.map(([key, item]) => [key, item(context)]));
  }
  return () => value;
}

function unvetted(template: Template): Placeholder[] {
  return template.placeholders.filter((p) => p.callerData && !p.filters.vetted);
}

function parseTemplate(source: string, path: string): Template {
  try {
    return Template.parse(source);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

function onlyKeys(body: Record<string, unknown>, allowed: string[], path: string): void {
  const extra = Object.keys(body).find((key) => !allowed.includes(key));
  if (extra) throw new Error(`${path}: unknown key "${extra}" (allowed: ${allowed.join(', ')})`);
}
