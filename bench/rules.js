// Rule evaluation time per call as the rule set grows. Large rule sets are mostly number
// mappings (one DID, one agent), which the exact-match index serves; a few rules that cannot
// be indexed (withheld callers, a prefix, a regex, a time window) are always evaluated.
const { compileRuleSet } = require('../dist/calls/rules/rule-set.compiler');
const { deriveCallFacts } = require('../dist/calls/sip/call-facts');

const accept = {
  accept: { model: 'gpt-realtime', instructions: 'Caller tier {{headers.x-account-tier}}' },
};

function numberFor(i) {
  return `+1800${String(5550000 + i).padStart(7, '0')}`;
}

function ruleSet(size) {
  const fixed = [
    {
      id: 'withheld',
      priority: 1,
      when: { field: 'caller.withheld', equals: true },
      action: { reject: { status_code: 603 } },
    },
    { id: 'intl', priority: 2, when: { field: 'caller.number', prefix: '+44' }, action: accept },
    {
      id: 'ext',
      priority: 3,
      when: { field: 'diversion.user', regex: '^(?<ext>2\\d\\d)$' },
      action: accept,
    },
    {
      id: 'night',
      priority: 4,
      when: { time: { days: ['sun'], from: '00:00', to: '06:00' } },
      action: accept,
    },
  ];
  const mapped = Array.from({ length: Math.max(0, size - fixed.length) }, (_, i) => ({
    id: `did-${i}`,
    when: {
      all: [
        { field: 'called.number', equals: numberFor(i) },
        { header: 'X-Account-Tier', in: ['gold', 'silver'] },
      ],
    },
    action: accept,
  }));
  return compileRuleSet({
    settings: { default_country: 'US', timezone: 'UTC' },
    rules: [...fixed, ...mapped],
  });
}

function callFacts(i, size) {
  return deriveCallFacts(
    `rtc_${i}`,
    [
      { name: 'From', value: '"Alice" <sip:+14155550123@pbx.example.com;user=phone>;tag=1' },
      // Half the calls hit a mapped number near the end of the list, half miss every rule.
      {
        name: 'To',
        value: `<sip:${i % 2 ? numberFor(size - 5 - (i % 7)) : '+18889990000'}@sip.api.openai.com>`,
      },
      { name: 'X-Account-Tier', value: 'gold' },
    ],
    'US',
  );
}

function perCall(iterations, fn) {
  for (let i = 0; i < Math.min(iterations, 500); i++) fn(i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / iterations / 1000;
}

function benchRules(sizes = [10, 1000, 10000]) {
  const now = new Date('2026-11-23T15:00:00Z');
  return sizes.map((size) => {
    const set = ruleSet(size);
    const facts = Array.from({ length: 64 }, (_, i) => callFacts(i, size));
    const decide = perCall(20000, (i) => set.decide(facts[i % facts.length], now));
    // The same rules evaluated one by one, as the dry run does: what the index saves.
    const linear = perCall(size >= 10000 ? 200 : 2000, (i) =>
      set.decide(facts[i % facts.length], now, true),
    );
    const withFacts = perCall(5000, (i) => set.decide(callFacts(i, size), now));
    return { size, decideUs: decide, linearUs: linear, withFactsUs: withFacts };
  });
}

module.exports = { benchRules };
