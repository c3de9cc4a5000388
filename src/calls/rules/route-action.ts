import { asText, asUriComponent, RenderContext, Template } from './template';

/** What Switchboard will ask OpenAI to do with the call, with every template filled in. */
export type RenderedAction =
  | { type: 'accept'; session: Record<string, unknown> }
  | { type: 'reject'; status_code: number }
  | { type: 'refer'; target_uri: string };

export const DEFAULT_REJECT_STATUS = 603;
const SIP_OR_TEL_URI = /^(sips?|tel):\S+$/i;

/** An action compiled once: its templates parsed, ready to render per call. */
export interface CompiledAction {
  type: RenderedAction['type'];
  render(context: RenderContext): RenderedAction;
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
    return { type: 'reject', render: () => ({ type: 'reject', status_code: status }) };
  }
  if (kind === 'refer') {
    onlyKeys(body, ['target_uri'], `${path}.refer`);
    const target = parseTemplate(String(body.target_uri), `${path}.refer.target_uri`);
    return {
      type: 'refer',
      render(context) {
        const uri = target.render(context, asUriComponent);
        if (!SIP_OR_TEL_URI.test(uri))
          throw new Error(`rendered target_uri "${uri}" is not a sip:, sips: or tel: URI`);
        return { type: 'refer', target_uri: uri };
      },
    };
  }
  const session = compileValue({ type: 'realtime', ...body }, `${path}.accept`);
  return {
    type: 'accept',
    render: (context) => ({ type: 'accept', session: session(context) as Record<string, unknown> }),
  };
}

type Renderer = (context: RenderContext) => unknown;

/** Walks the session config: every string becomes a template; everything else is copied. */
function compileValue(value: unknown, path: string): Renderer {
  if (typeof value === 'string') {
    const template = parseTemplate(value, path);
    return template.isStatic ? () => value : (context) => template.render(context, asText);
  }
  if (Array.isArray(value)) {
    const items = value.map((item, i) => compileValue(item, `${path}[${i}]`));
    return (context) => items.map((item) => item(context));
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(
      ([key, item]) => [key, compileValue(item, `${path}.${key}`)] as const,
    );
    return (context) => Object.fromEntries(entries.map(([key, item]) => [key, item(context)]));
  }
  return () => value;
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
