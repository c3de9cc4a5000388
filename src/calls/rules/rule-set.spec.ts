import fc from 'fast-check';
import { deriveCallFacts } from '../sip/call-facts';
import { compileRuleSet, RulesValidationError } from './rule-set.compiler';

const headers = (extra: Record<string, string> = {}) => [
  { name: 'From', value: '"Alice" <sip:+14155550123@pbx.example.com;user=phone>;tag=1' },
  { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
  { name: 'Call-ID', value: 'abc@pbx' },
  ...Object.entries(extra).map(([name, value]) => ({ name, value })),
];
const facts = (extra?: Record<string, string>, country = 'US') =>
  deriveCallFacts('rtc_1', headers(extra), country);
const MONDAY_10_NY = new Date('2026-11-23T15:00:00Z'); // Monday 10:00 in New York
const SATURDAY_10_NY = new Date('2026-11-28T15:00:00Z');
const accept = { accept: { model: 'gpt-realtime', instructions: 'hello' } };

function decide(
  rules: unknown[],
  f = facts(),
  now = MONDAY_10_NY,
  extra: Record<string, unknown> = {},
) {
  return compileRuleSet({ rules, ...extra }).decide(f, now);
}

describe('routing rules', () => {
  describe('operators', () => {
    it.each([
      [{ field: 'called.number', equals: '(800) 555-0100' }, true],
      [{ field: 'called.number', equals: '+1 800 555 0101' }, false],
      [{ header: 'X-Tier', in: ['Gold', 'platinum'] }, true],
      [{ header: 'x-tier', equals: 'GOLD', case_sensitive: true }, false],
      [{ field: 'caller.number', prefix: '+1415' }, true],
      [{ field: 'caller.host', suffix: '.example.com' }, true],
      [{ field: 'caller.display_name', contains: 'lic' }, true],
      [{ field: 'caller.uri', glob: 'sip:+1415*@pbx.*' }, true],
      [{ field: 'called.number', dial: '_1NXXNXXXXXX' }, true],
      [{ field: 'called.number', dial: '_4930X.' }, false],
      [{ header: 'X-Tier', regex: '^(?<tier>gold|silver)$' }, true],
      [{ header: 'X-Missing', exists: true }, false],
      [{ header: 'X-Missing', absent: true }, true],
      [{ header: 'X-Score', gte: 7 }, true],
      [{ header: 'X-Score', lt: 7 }, false],
      [{ field: 'caller.withheld', equals: false }, true],
      [{ field: 'from.params.tag', equals: '1' }, true],
      [{ not: { header: 'X-Tier', equals: 'gold' } }, false],
      [
        {
          any: [
            { header: 'X-Tier', equals: 'bronze' },
            { field: 'caller.scheme', equals: 'sip' },
          ],
        },
        true,
      ],
    ])('%j matches: %s', (when, expected) => {
      const decision = decide(
        [{ id: 'r', when, action: accept }],
        facts({ 'X-Tier': 'gold', 'X-Score': '7' }),
      );
      expect(decision.route === 'rule').toBe(expected);
    });

    it('matches a repeated header if any of its values does', () => {
      const f = deriveCallFacts(
        'rtc_1',
        [
          ...headers(),
          { name: 'Diversion', value: '<tel:+14155550000>;reason=busy' },
          { name: 'Diversion', value: '<sip:+18005550199@pbx>;reason=unconditional' },
        ],
        'US',
      );
      expect(
        decide(
          [
            {
              id: 'r',
              when: { field: 'diversion.number', equals: '+18005550199' },
              action: accept,
            },
          ],
          f,
        ).rule,
      ).toBe('r');
    });

    it('compares numbers after normalisation, and keeps a number that does not normalise as dialled', () => {
      const f = deriveCallFacts('rtc_1', [{ name: 'From', value: '<sip:004930123456@gw>' }], 'US');
      const rules = [
        { id: 'berlin', when: { field: 'caller.number', equals: '004930123456' }, action: accept },
      ];
      expect(decide(rules, f).rule).toBe('berlin');
      expect(
        decide([{ id: 'us', when: { field: 'caller.number', prefix: '+1' }, action: accept }], f)
          .route,
      ).toBe('default');
    });
  });

  it('fills templates with headers, fields and regex captures: caller text marked unless constrained, URIs escaped', () => {
    const decision = decide(
      [
        {
          id: 'tiered',
          when: {
            all: [
              { header: 'X-Tier', regex: '^(?<tier>\\w+)$' },
              { field: 'caller.number', regex: '(?<last4>\\d{4})$' },
            ],
          },
          action: {
            accept: {
              instructions:
                'Tier {{headers.x-tier | oneof: Gold, Silver}}, {{captures.tier}}; caller {{caller.number}} ({{captures.last4 | match: "\\d{4}"}})',
            },
          },
        },
      ],
      facts({ 'X-Tier': 'gold' }),
    );
    expect(decision.action).toEqual({
      type: 'accept',
      session: {
        type: 'realtime',
        instructions:
          'Tier Gold, [caller-supplied text: "gold"]; caller [caller-supplied text: "+14155550123"] (0123)',
      },
    });

    const refer = decide(
      [
        {
          id: 'to-desk',
          when: { header: 'X-Desk', exists: true },
          action: {
            refer: {
              target_uri: 'sip:{{headers.x-desk}}@pbx.example.com',
              allowed_targets: ['sip:*@pbx.example.com'],
            },
          },
        },
      ],
      facts({ 'X-Desk': 'a b>;evil=1' }),
    );
    expect(refer.action).toEqual({
      type: 'refer',
      target_uri: 'sip:a%20b%3E%3Bevil%3D1@pbx.example.com',
    });
  });

  it('renders a capture named like an Object member that did not match as empty, not as a function', () => {
    const decision = decide(
      [
        {
          id: 'r',
          when: { field: 'caller.number', regex: '^\\+1(?P<area>\\d{3})(?P<valueOf>9)?' },
          action: {
            refer: {
              target_uri: 'sip:{{captures.area}}-{{captures.valueOf}}{{captures.constructor}}@pbx',
              allowed_targets: ['sip:*@pbx'],
            },
          },
        },
      ],
      facts(),
    );
    expect(decision).toMatchObject({
      route: 'rule',
      action: { type: 'refer', target_uri: 'sip:415-@pbx' },
    });
  });

  it('never reads template syntax that arrives inside a header value', () => {
    const decision = decide(
      [{ id: 'r', action: { accept: { instructions: 'Note: {{headers.x-note}}' } } }],
      facts({ 'X-Note': '{{headers.authorization}} }}{{' }),
    );
    expect(decision.action).toMatchObject({
      session: { instructions: 'Note: [caller-supplied text: "{{headers.authorization}} }}{{"]' },
    });
  });

  it('honours time windows in their zone, including windows past midnight', () => {
    const officeHours = {
      time: {
        days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        from: '08:00',
        to: '18:00',
        timezone: 'America/New_York',
      },
    };
    const rules = [{ id: 'office', when: officeHours, action: accept }];
    expect(decide(rules, facts(), MONDAY_10_NY).rule).toBe('office');
    const weekend = decide(rules, facts(), SATURDAY_10_NY);
    expect(weekend.route).toBe('default');
    expect(weekend.explanation.rules_before[0].failed).toContain(
      'it is sat 10:00 in America/New_York',
    );
    const night = [
      {
        id: 'night',
        when: { time: { days: ['fri'], from: '22:00', to: '06:00', timezone: 'UTC' } },
        action: accept,
      },
    ];
    expect(decide(night, facts(), new Date('2026-11-28T03:00:00Z')).rule).toBe('night'); // Saturday 03:00, Friday night
    expect(decide(night, facts(), new Date('2026-11-29T03:00:00Z')).route).toBe('default');
  });

  it('takes the first match in priority order, then written order, and explains every rule before it', () => {
    const decision = decide([
      { id: 'later', priority: 200, action: accept },
      { id: 'tier', when: { header: 'X-Tier', equals: 'gold' }, action: accept },
      {
        id: 'vip',
        priority: 10,
        when: { field: 'caller.number', equals: '+19999999999' },
        action: accept,
      },
    ]);
    expect(decision.rule).toBe('later');
    expect(decision.explanation.matched).toBe('later');
    expect(decision.explanation.rules_before.map((r) => r.rule)).toEqual([]);
    expect(decision.explanation.skipped_by_index).toBe(2);

    const full = compileRuleSet({
      rules: [
        { id: 'vip', when: { field: 'caller.number', equals: '+19999999999' }, action: accept },
        { id: 'all', action: accept },
      ],
    }).decide(facts(), MONDAY_10_NY, true);
    expect(full.explanation.rules_before).toEqual([
      {
        rule: 'vip',
        failed: 'rules[0].when: caller.number is "+14155550123", expected "+19999999999"',
      },
    ]);
  });

  it('uses the default route when nothing matches (404 unless configured), and the error route when rendering fails', () => {
    expect(decide([]).action).toEqual({ type: 'reject', status_code: 404 });
    expect(
      decide([], facts(), MONDAY_10_NY, { default: { refer: { target_uri: 'tel:+14155550199' } } })
        .action,
    ).toEqual({
      type: 'refer',
      target_uri: 'tel:+14155550199',
    });
    const broken = decide(
      [
        {
          id: 'r',
          action: {
            refer: { target_uri: 'sip:{{headers.x-missing}}', allowed_targets: ['sip:*'] },
          },
        },
      ],
      facts(),
      MONDAY_10_NY,
      {
        on_error: { reject: { status_code: 503 } },
      },
    );
    expect(broken).toMatchObject({
      route: 'on_error',
      action: { type: 'reject', status_code: 503 },
    });
    expect(broken.explanation.error).toBe('rendered target_uri "sip:" has no host');
    expect(decide([{ id: 'r', action: { reject: {} } }]).action).toEqual({
      type: 'reject',
      status_code: 603,
    });
  });

  it('warns about rules that an earlier rule makes unreachable', () => {
    const set = compileRuleSet({
      rules: [
        { id: 'gold', when: { header: 'X-Tier', equals: 'gold' }, action: accept },
        {
          id: 'gold-ny',
          when: {
            all: [
              { header: 'x-tier', equals: 'gold' },
              { field: 'caller.number', prefix: '+1212' },
            ],
          },
          action: accept,
        },
        { id: 'everyone', action: accept },
        { id: 'never', when: { header: 'X-Tier', equals: 'silver' }, action: accept },
      ],
    });
    expect(set.warnings).toEqual([
      'rule "gold-ny" is unreachable: the earlier rule "gold" matches every call it would',
      'rule "never" is unreachable: the earlier rule "everyone" matches every call',
    ]);
  });

  it('lists every problem of a broken rule set with its path', () => {
    let caught: RulesValidationError | undefined;
    try {
      compileRuleSet({
        rules: [
          { id: 'a', when: { header: 'X', regex: '(unclosed' }, action: accept },
          {
            id: 'a',
            when: { field: 'caller.phone', equals: '1' },
            action: { reject: { status_code: 200 } },
          },
          { id: 'c', whne: {}, action: { accept: { instructions: '{{headers.x' } } },
        ],
      });
    } catch (error) {
      caught = error as RulesValidationError;
    }
    expect(caught).toBeInstanceOf(RulesValidationError);
    const paths = caught!.problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['rules[2]', 'rules[1].action.reject.status_code']),
    );
    expect(caught!.message).toContain('unknown key "whne"');
  });

  it('reports condition and template errors beside schema errors, not after them', () => {
    const problems = (rules: unknown[]) => {
      try {
        compileRuleSet({ rules });
        return [];
      } catch (error) {
        return (error as RulesValidationError).problems;
      }
    };
    expect(
      problems([{ id: 'a', when: { header: 'X', regex: '(unclosed' }, action: accept }]),
    ).toEqual([
      {
        path: 'rules[0].when.regex',
        message: expect.stringContaining('invalid regular expression'),
      },
    ]);
    expect(
      problems([{ id: 'a', when: { field: 'caller.phone', equals: '1' }, action: accept }])[0],
    ).toMatchObject({
      path: 'rules[0].when.field',
    });
    expect(
      problems([{ id: 'a', action: { accept: { instructions: '{{headers.x' } } }])[0],
    ).toMatchObject({
      path: 'rules[0].action.accept.instructions',
    });
    expect(
      problems([
        { id: 'a', action: accept },
        { id: 'a', action: accept },
      ])[0],
    ).toMatchObject({ path: 'rules[1].id' });
    expect(
      problems([{ id: 'a', when: { time: { timezone: 'Mars/Olympus' } }, action: accept }])[0]
        .message,
    ).toContain('unknown time zone');
    expect(
      problems([
        {
          id: 'a',
          priority: 'high',
          when: {
            any: [
              { header: 'X', regex: '(' },
              { field: 'caller.phone', equals: '1' },
            ],
          },
          action: { accept: { instructions: '{{headers.x' } },
        },
      ]).map((p) => p.path),
    ).toEqual([
      'rules[0].priority',
      'rules[0].when.any[0].regex',
      'rules[0].when.any[1].field',
      'rules[0].action.accept.instructions',
    ]);
  });

  it('evaluates a catastrophic-backtracking pattern in linear time', () => {
    const set = compileRuleSet({
      rules: [{ id: 'r', when: { header: 'X-Evil', regex: '^(a+)+$' }, action: accept }],
    });
    const decision = set.decide(facts({ 'X-Evil': `${'a'.repeat(1000)}!` }), MONDAY_10_NY);
    expect(decision.route).toBe('default');
  });

  it('property: deciding never throws, whatever the header names and values', () => {
    const set = compileRuleSet({
      rules: [
        {
          id: 'a',
          when: {
            all: [
              { field: 'caller.number', dial: '_1NXX.' },
              { header: 'X-A', regex: '(?<x>.+)' },
            ],
          },
          action: { refer: { target_uri: 'sip:{{captures.x}}@pbx' } },
        },
        {
          id: 'b',
          when: {
            any: [
              { field: 'diversion.params.reason', in: ['busy'] },
              { not: { field: 'to.host', glob: '*.example.*' } },
            ],
          },
          action: accept,
        },
        {
          id: 'c',
          when: {
            all: [
              { header: 'X-N', gte: 3 },
              { field: 'pai.display_name', contains: 'x' },
            ],
          },
          action: { accept: { instructions: '{{headers.x-n}} {{from.user}}' } },
        },
        { id: 'd', when: { time: { days: ['mon'], from: '22:00', to: '02:00' } }, action: accept },
      ],
    });
    const names = fc.oneof(
      fc.constantFrom(
        'From',
        'f',
        'To',
        't',
        'P-Asserted-Identity',
        'Diversion',
        'X-A',
        'X-N',
        'Privacy',
      ),
      fc.string(),
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: names, value: fc.string({ maxLength: 200 }) }), {
          maxLength: 10,
        }),
        fc.date({ noInvalidDate: true }),
        (headers, at) => {
          const decision = set.decide(deriveCallFacts('rtc_p', headers, 'US'), at);
          expect(['rule', 'default', 'on_error']).toContain(decision.route);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('property: the index never changes the decision', () => {
    const tiers = ['gold', 'silver', 'bronze', 'GOLD'];
    const numbers = ['+18005550100', '+18005550101', '(800) 555-0102', '+4930123456'];
    const rules = Array.from({ length: 60 }, (_, i) => ({
      id: `r${i}`,
      priority: i % 7,
      when:
        i % 3 === 0
          ? { field: 'called.number', equals: numbers[i % numbers.length] }
          : i % 3 === 1
            ? {
                all: [
                  { header: 'X-Tier', in: [tiers[i % 4], tiers[(i + 1) % 4]] },
                  { field: 'caller.number', prefix: `+1${i % 10}` },
                ],
              }
            : { header: 'X-Tier', equals: tiers[i % 4], case_sensitive: true },
      action: accept,
    }));
    const set = compileRuleSet({ rules });
    fc.assert(
      fc.property(
        fc.constantFrom(...tiers),
        fc.constantFrom(...numbers),
        fc.integer({ min: 0, max: 9 }),
        (tier, called, digit) => {
          const f = deriveCallFacts(
            'rtc_p',
            [
              { name: 'From', value: `<sip:+1${digit}155550123@x>` },
              { name: 'To', value: `<sip:${called}@y>` },
              { name: 'X-Tier', value: tier },
            ],
            'US',
          );
          expect(set.decide(f, MONDAY_10_NY).rule).toBe(set.decide(f, MONDAY_10_NY, true).rule);
        },
      ),
      { numRuns: 300 },
    );
  });
});
