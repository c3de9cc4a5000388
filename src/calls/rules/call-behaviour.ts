import { checkTargetUri } from '../sip/uri-check';
import { markCallerText } from './caller-data';
import { ConditionError } from './condition.compiler';
import { Placement, RenderContext, Template } from './template';

/**
 * What an accept says about the call after it is answered, beside its session config: what the
 * agent says first, which `@CallTool` handlers it is offered, whether the record keeps what is
 * said, and where the built-in `transfer_call` may send the caller. Never sent to OpenAI as
 * written: the sideband carries them out (src/calls/sideband/).
 */
export interface CallBehaviour {
  /** Said first: a template rendered with the same caller data as the instructions. */
  greeting?: string;
  /** Names of `@CallTool` handlers offered to the model on this call. */
  call_tools?: string[];
  /** Keep transcript turns in the call record (and publish `call.transcript`). Default false. */
  transcripts?: boolean;
  /** The `sip:`/`tel:` URIs `transfer_call` may refer the caller to (the first is its default). */
  transfer_targets?: string[];
}

export const CALL_BEHAVIOUR_KEYS = ['greeting', 'call_tools', 'transcripts', 'transfer_targets'];

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TOOLS = 128;
const MAX_TARGETS = 100;
const MAX_GREETING = 4000;

/** The behaviour compiled once; `render` fills in the greeting's placeholders per call. */
export interface CompiledBehaviour {
  render(context: RenderContext): CallBehaviour;
  warnings: string[];
}

/**
 * Reads the behaviour keys of an accept body (`path` is the accept's, for messages); every
 * mistake is listed. Caller data in the greeting goes in quoted and labelled, as in
 * instructions, unless constrained with `oneof`/`match`.
 */
export function compileBehaviour(
  body: Record<string, unknown>,
  path: string,
): { behaviour: CompiledBehaviour; mistakes: ConditionError[] } {
  const mistakes: ConditionError[] = [];
  const warnings: string[] = [];
  let greeting: Template | undefined;
  if (body.greeting !== undefined) {
    if (typeof body.greeting !== 'string' || body.greeting.trim() === '')
      mistakes.push(
        new ConditionError(`${path}.greeting`, 'must be a non-empty text (a template)'),
      );
    else if (body.greeting.length > MAX_GREETING)
      mistakes.push(
        new ConditionError(`${path}.greeting`, `must be at most ${MAX_GREETING} characters`),
      );
    else {
      try {
        greeting = Template.parse(body.greeting);
        for (const p of greeting.placeholders.filter((p) => p.callerData && !p.filters.vetted))
          warnings.push(
            `${path}.greeting inserts caller data {{${p.text}}} without oneof or match: it is sent marked as [caller-supplied text: "..."]`,
          );
      } catch (error) {
        mistakes.push(new ConditionError(`${path}.greeting`, (error as Error).message));
      }
    }
  }
  const tools = body.call_tools;
  if (tools !== undefined) {
    if (!Array.isArray(tools) || tools.length > MAX_TOOLS)
      mistakes.push(
        new ConditionError(`${path}.call_tools`, `must be a list of up to ${MAX_TOOLS} tool names`),
      );
    else
      tools.forEach((name, i) => {
        if (typeof name !== 'string' || !TOOL_NAME.test(name))
          mistakes.push(
            new ConditionError(
              `${path}.call_tools[${i}]`,
              'must be a tool name: 1 to 64 letters, digits, "_" or "-"',
            ),
          );
      });
  }
  if (body.transcripts !== undefined && typeof body.transcripts !== 'boolean')
    mistakes.push(new ConditionError(`${path}.transcripts`, 'must be true or false'));
  const targets = body.transfer_targets;
  if (targets !== undefined) {
    if (!Array.isArray(targets) || targets.length === 0 || targets.length > MAX_TARGETS)
      mistakes.push(
        new ConditionError(
          `${path}.transfer_targets`,
          `must be a list of 1 to ${MAX_TARGETS} sip:, sips: or tel: URIs`,
        ),
      );
    else
      targets.forEach((uri, i) => {
        const problem = typeof uri === 'string' ? checkTargetUri(uri) : 'is not a text';
        if (problem)
          mistakes.push(
            new ConditionError(`${path}.transfer_targets[${i}]`, `"${String(uri)}" ${problem}`),
          );
      });
  }
  const fixed: CallBehaviour = {
    ...(tools !== undefined ? { call_tools: [...new Set(tools as string[])] } : {}),
    ...(body.transcripts !== undefined ? { transcripts: body.transcripts as boolean } : {}),
    ...(targets !== undefined ? { transfer_targets: targets as string[] } : {}),
  };
  const template = greeting;
  return {
    mistakes,
    behaviour: {
      warnings,
      render: (context) =>
        template ? { greeting: template.render(context, intoText), ...fixed } : { ...fixed },
    },
  };
}

/** As in a session's instructions: unvetted caller text quoted and labelled, rejected text empty. */
const intoText: Placement = (resolution) => {
  if (resolution.status === 'rejected') return '';
  if (resolution.status === 'unvetted' && resolution.value !== '')
    return markCallerText(resolution.value);
  return resolution.value;
};

/** The accept body without its behaviour keys: what is left is session config. */
export function withoutBehaviour(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(body).filter(([key]) => !CALL_BEHAVIOUR_KEYS.includes(key)),
  );
}
