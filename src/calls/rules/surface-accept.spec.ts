import { deriveCallFacts } from '../sip/call-facts';
import { settleOnSurface } from '../surfaces/settle-surface';
import { planSurface } from '../surfaces/surface-plan';
import type { SurfaceName } from '../surfaces/surface-name';
import { compileRuleSet, RulesValidationError } from './rule-set.compiler';

const HEADERS = [
  { name: 'From', value: '<sip:+14155550123@pbx.example.com>;tag=1' },
  { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
];
const NOW = new Date('2026-11-23T15:00:00Z');
const LIVE = { model: 'gpt-live-1', instructions: 'Live {{call.surfaces}} {{sip_media_security}}' };
const REALTIME = { model: 'gpt-realtime', instructions: 'Realtime' };

function facts(surfaces: SurfaceName[], mediaSecurity?: string, twinMayCome = false) {
  return deriveCallFacts('rtc_1', HEADERS, 'US', { surfaces, mediaSecurity, twinMayCome });
}

function problems(action: unknown): { path: string; message: string }[] {
  try {
    compileRuleSet({ rules: [{ id: 'r', action }] });
  } catch (error) {
    return (error as RulesValidationError).problems;
  }
  throw new Error('compiled');
}

describe('accept on a surface: rule syntax', () => {
  it('keeps the plain accept a Realtime session, rendered exactly as before', () => {
    const set = compileRuleSet({ rules: [{ id: 'r', action: { accept: REALTIME } }] });
    const decision = set.decide(facts(['live']), NOW);
    expect(decision.action).toEqual({
      type: 'accept',
      session: { type: 'realtime', model: 'gpt-realtime', instructions: 'Realtime' },
    });
  });

  it('renders a session per surface, typed, with trusted announcement facts in templates', () => {
    const set = compileRuleSet({
      rules: [{ id: 'r', action: { accept: { live: LIVE, realtime: REALTIME, prefer: 'live' } } }],
    });
    expect(set.warnings).toEqual([]); // announcement facts are OpenAI's, not caller data
    expect(set.decide(facts(['realtime', 'live'], 'srtp'), NOW).action).toEqual({
      type: 'accept',
      sessions: {
        live: { type: 'live', model: 'gpt-live-1', instructions: 'Live realtime srtp' },
        realtime: { type: 'realtime', model: 'gpt-realtime', instructions: 'Realtime' },
      },
      prefer: 'live',
    });
  });

  it.each([
    [{ live: { ...LIVE, tools: [] } }, 'rules[0].action.accept.live.tools', 'delegation'],
    [
      { live: { ...LIVE, audio: { output: { voice: 'marin', format: 'pcm16' } } } },
      'rules[0].action.accept.live.audio.output.format',
      'must be omitted for SIP calls',
    ],
    [
      { live: { ...LIVE, audio: { format: 'pcm16' } } },
      'rules[0].action.accept.live.audio.format',
      'must be omitted',
    ],
    [{ live: { instructions: 'x' } }, 'rules[0].action.accept.live.model', ''],
    [{ live: { ...LIVE, type: 'realtime' } }, 'rules[0].action.accept.live.type', ''],
    [{ live: LIVE, prefer: 'realtime' }, 'rules[0].action.accept.prefer', 'live'],
    [{ prefer: 'live' }, 'rules[0].action.accept', 'names no surface'],
    [{ live: LIVE, model: 'gpt-realtime' }, 'rules[0].action.accept', 'unknown key "model"'],
    [{ realtime: { model: '' } }, 'rules[0].action.accept.realtime.model', ''],
    [{ live: LIVE, prefer: 'voice' }, 'rules[0].action.accept.prefer', ''],
  ])('refuses a wrong accept on save, naming the place (case %#)', (accept, path, words) => {
    const found = problems({ accept });
    expect(found).toContainEqual({ path, message: expect.stringContaining(words) });
  });
});

describe('accept on a surface: where it goes', () => {
  const set = compileRuleSet({
    rules: [
      {
        id: 'both',
        when: { header: 'X-Both', exists: true },
        action: { accept: { live: LIVE, realtime: REALTIME } },
      },
      {
        id: 'prefer-live',
        when: { header: 'X-Prefer', exists: true },
        action: { accept: { live: LIVE, realtime: REALTIME, prefer: 'live' } },
      },
      { id: 'live-only', action: { accept: { live: LIVE } } },
    ],
  });
  const decide = (header: string) =>
    set.decide(deriveCallFacts('rtc_1', [...HEADERS, { name: header, value: '1' }], 'US'), NOW);

  it('without prefer, answers on the surface that announced the call first: never waits', () => {
    const action = decide('X-Both').action;
    expect(planSurface(action, ['live'], true)).toMatchObject({ kind: 'send', surface: 'live' });
    expect(planSurface(action, ['realtime'], true)).toMatchObject({
      kind: 'send',
      surface: 'realtime',
    });
    expect(planSurface(action, ['live', 'realtime'], false)).toMatchObject({ surface: 'live' });
  });

  it('with prefer, waits for the preferred surface, then takes the other one', () => {
    const action = decide('X-Prefer').action;
    expect(planSurface(action, ['realtime'], true)).toEqual({ kind: 'wait', surface: 'live' });
    expect(planSurface(action, ['realtime', 'live'], false)).toMatchObject({
      kind: 'send',
      surface: 'live',
      request: { type: 'accept', session: { type: 'live', model: 'gpt-live-1' } },
    });
    expect(planSurface(action, ['realtime'], false)).toMatchObject({
      kind: 'send',
      surface: 'realtime',
      request: { type: 'accept', session: { type: 'realtime' } },
    });
  });

  it('an accept no announced surface can take settles on on_error, saying why', () => {
    const decision = decide('X-None');
    expect(planSurface(decision.action, ['realtime'], true)).toEqual({
      kind: 'wait',
      surface: 'live',
    });
    const settled = settleOnSurface(set, facts(['realtime']), decision, ['realtime']);
    expect(settled).toMatchObject({
      surface: 'realtime',
      request: { type: 'reject', status_code: 500 },
      decision: {
        route: 'on_error',
        explanation: {
          matched: 'live-only',
          error: 'the rule accepts on live, and the call was announced on realtime only',
        },
      },
    });
  });

  it('when on_error itself accepts on a surface that did not announce the call, rejects with 500', () => {
    const strict = compileRuleSet({
      rules: [{ id: 'live-only', action: { accept: { live: LIVE } } }],
      on_error: { accept: { live: LIVE } },
    });
    const decision = strict.decide(facts(['realtime']), NOW);
    expect(settleOnSurface(strict, facts(['realtime']), decision, ['realtime'])).toMatchObject({
      surface: 'realtime',
      request: { type: 'reject', status_code: 500 },
      decision: { route: 'on_error', action: { type: 'reject', status_code: 500 } },
    });
  });

  it('a reject goes to the first announced surface, with its status code', () => {
    const rejecting = compileRuleSet({ rules: [], default: { reject: {} } });
    const decision = rejecting.decide(facts(['live', 'realtime']), NOW);
    expect(
      settleOnSurface(rejecting, facts(['live']), decision, ['live', 'realtime']),
    ).toMatchObject({
      surface: 'live',
      request: { type: 'reject', status_code: 603 },
    });
  });
});

describe('conditions on how the call was announced', () => {
  const set = compileRuleSet({
    rules: [
      {
        id: 'on-live',
        when: { field: 'call.surfaces', equals: 'live' },
        action: { accept: { live: LIVE } },
      },
      {
        id: 'clear-media',
        when: { not: { field: 'sip_media_security', equals: 'srtp' } },
        action: { reject: { status_code: 488 } },
      },
      { id: 'rest', action: { accept: REALTIME } },
    ],
  });

  it('match on the surfaces that announced the call and on sip_media_security', () => {
    expect(set.decide(facts(['realtime', 'live'], 'srtp'), NOW).rule).toBe('on-live');
    expect(set.decide(facts(['realtime'], 'rtp'), NOW).rule).toBe('clear-media');
    expect(set.decide(facts(['realtime']), NOW).rule).toBe('clear-media');
    expect(set.decide(facts(['realtime'], 'srtp'), NOW).rule).toBe('rest');
    expect(set.decide(facts(['realtime']), NOW, true).explanation.rules_before[0]).toEqual({
      rule: 'on-live',
      failed: 'rules[0].when: call.surfaces is "realtime", expected "live"',
    });
  });

  it('note when a rule read a fact the twin may still change, and only then', () => {
    const waiting = facts(['realtime'], undefined, true);
    set.decide(waiting, NOW);
    expect(waiting.offer.readTwinFacts).toBe(true);
    const plain = compileRuleSet({ rules: [{ id: 'rest', action: { accept: REALTIME } }] });
    const untouched = facts(['realtime'], undefined, true);
    plain.decide(untouched, NOW);
    expect(untouched.offer.readTwinFacts).toBe(false);
    // Said already: the twin cannot change it.
    const said = compileRuleSet({
      rules: [
        {
          id: 'm',
          when: { field: 'sip_media_security', equals: 'srtp' },
          action: { accept: REALTIME },
        },
      ],
    });
    const known = facts(['realtime'], 'srtp', true);
    said.decide(known, NOW);
    expect(known.offer.readTwinFacts).toBe(false);
  });

  it('are not indexed, so a rule that matches first never reads them for the index', () => {
    const first = compileRuleSet({
      rules: [
        { id: 'first', when: { header: 'X-A', equals: '1' }, action: { accept: REALTIME } },
        {
          id: 'later',
          when: { field: 'call.surfaces', in: ['live'] },
          action: { accept: { live: LIVE } },
        },
      ],
    });
    const f = deriveCallFacts('rtc_1', [...HEADERS, { name: 'X-A', value: '1' }], 'US', {
      surfaces: ['realtime'],
      twinMayCome: true,
    });
    expect(first.decide(f, NOW).rule).toBe('first');
    expect(f.offer.readTwinFacts).toBe(false);
  });
});
