import type { RenderedAction } from '../rules/route-action';
import type { ControlRequest } from './call-surface';
import type { SurfaceName } from './surface-name';

/** What to do with a decided action, given which surfaces have announced the call so far. */
export type SurfacePlan =
  /** Send this request on this surface now. */
  | { kind: 'send'; surface: SurfaceName; request: ControlRequest }
  /** The action prefers a surface whose announcement has not arrived: wait for it (bounded). */
  | { kind: 'wait'; surface: SurfaceName }
  /** No surface the action can use announced the call: the rules' fallback decides. */
  | { kind: 'unusable'; reason: string };

/**
 * The surfaces an accept can answer on, most preferred first, each with its session: the one it
 * `prefer`s, else the one that announced the call first (no waiting), then the other.
 */
export function acceptChoices(
  action: Extract<RenderedAction, { type: 'accept' }>,
  announced: readonly SurfaceName[],
): { surface: SurfaceName; session: Record<string, unknown> }[] {
  // Every accept written before the Live surface existed is a Realtime session.
  if ('session' in action) return [{ surface: 'realtime', session: action.session }];
  const rank = (surface: SurfaceName) => {
    if (surface === action.prefer) return -1;
    const position = announced.indexOf(surface);
    return position < 0 ? announced.length : position;
  };
  return (Object.entries(action.sessions) as [SurfaceName, Record<string, unknown>][])
    .map(([surface, session]) => ({ surface, session }))
    .sort((a, b) => rank(a.surface) - rank(b.surface));
}

/**
 * Where a decision goes. A reject or refer goes to the surface that announced the call first:
 * either ends the one INVITE. An accept goes to its most preferred surface that has announced
 * the call; when a more preferred one has not (yet), `mayWait` says whether to wait for it.
 * `announced` is in order of arrival.
 */
export function planSurface(
  action: RenderedAction,
  announced: readonly SurfaceName[],
  mayWait: boolean,
): SurfacePlan {
  if (action.type !== 'accept') return { kind: 'send', surface: announced[0], request: action };
  const choices = acceptChoices(action, announced);
  for (const choice of choices) {
    if (announced.includes(choice.surface)) {
      return {
        kind: 'send',
        surface: choice.surface,
        request: { type: 'accept', session: choice.session },
      };
    }
    if (mayWait) return { kind: 'wait', surface: choice.surface };
  }
  const wanted = choices.map((choice) => choice.surface).join(' or ');
  return {
    kind: 'unusable',
    reason: `the rule accepts on ${wanted}, and the call was announced on ${announced.join(' and ')} only`,
  };
}
