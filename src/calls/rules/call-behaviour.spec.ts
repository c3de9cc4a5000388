import { deriveCallFacts } from '../sip/call-facts';
import { compileRuleSet, RulesValidationError } from './rule-set.compiler';

const HEADERS = [
  { name: 'From', value: '<sip:+14155550123@pbx.example.com>;tag=1' },
  { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
];
const NOW = new Date('2026-11-23T15:00:00Z');
const facts = deriveCallFacts('rtc_1', HEADERS, 'US');

function problems(accept: unknown): { path: string; message: string }[] {
  try {
    compileRuleSet({ rules: [{ id: 'r', action: { accept } }] });
  } catch (error) {
    return (error as RulesValidationError).problems;
  }
  throw new Error('compiled');
}

describe('the call after answer in an accept: greeting, call_tools, transcripts, transfer_targets', () => {
  const behaviour = {
    greeting: 'Hello {{caller.number}}, this is {{call_id}}.',
    call_tools: ['lookup_order', 'transfer_call', 'lookup_order'],
    transcripts: true,
    transfer_targets: ['sip:desk@example.com', 'tel:+18005550100'],
  };

  it('renders them beside a plain accept, kept out of its session, the greeting a template', () => {
    const set = compileRuleSet({
      rules: [{ id: 'r', action: { accept: { model: 'gpt-realtime', ...behaviour } } }],
    });
    expect(set.decide(facts, NOW).action).toEqual({
      type: 'accept',
      session: { type: 'realtime', model: 'gpt-realtime' },
      greeting: 'Hello [caller-supplied text: "+14155550123"], this is rtc_1.',
      call_tools: ['lookup_order', 'transfer_call'],
      transcripts: true,
      transfer_targets: ['sip:desk@example.com', 'tel:+18005550100'],
    });
    expect(set.warnings.join('\n')).toContain('greeting inserts caller data {{caller.number}}');
  });

  it('takes them in the surface form too, without making a plain accept a surface one', () => {
    const set = compileRuleSet({
      rules: [
        {
          id: 'r',
          action: { accept: { live: { model: 'gpt-live-1' }, greeting: 'Hi', transcripts: false } },
        },
      ],
    });
    expect(set.decide(facts, NOW).action).toEqual({
      type: 'accept',
      sessions: { live: { type: 'live', model: 'gpt-live-1' } },
      greeting: 'Hi',
      transcripts: false,
    });
  });

  it('names every mistake with its path', () => {
    expect(
      problems({
        model: 'gpt-realtime',
        greeting: '',
        call_tools: ['ok', 'not a name'],
        transcripts: 'yes',
        transfer_targets: ['mailto:desk@example.com'],
      }),
    ).toEqual([
      { path: 'rules[0].action.accept.greeting', message: 'must be a non-empty text (a template)' },
      {
        path: 'rules[0].action.accept.call_tools[1]',
        message: 'must be a tool name: 1 to 64 letters, digits, "_" or "-"',
      },
      { path: 'rules[0].action.accept.transcripts', message: 'must be true or false' },
      {
        path: 'rules[0].action.accept.transfer_targets[0]',
        message: '"mailto:desk@example.com" is not a sip:, sips: or tel: URI',
      },
    ]);
    expect(problems({ live: { model: 'gpt-live-1' }, greeting: 'Hi {{nope}}' })).toEqual([
      expect.objectContaining({ path: 'rules[0].action.accept.greeting' }),
    ]);
  });
});
