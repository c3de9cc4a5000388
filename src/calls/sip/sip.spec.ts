import fc from 'fast-check';
import { addressPart, deriveCallFacts } from './call-facts';
import { normalizePhoneNumber } from './phone-number';
import { parseSipAddress } from './sip-address';
import { sanitizeHeaderValue, SipHeaderBag, splitList } from './sip-header-bag';

describe('parseSipAddress', () => {
  it('takes apart a name-addr with a quoted, escaped display name and both kinds of parameters', () => {
    expect(
      parseSipAddress(
        '"Alice \\"Al\\" Smith" <sip:+14155550123@PBX.example.com:5061;user=phone>;tag=9fx',
      ),
    ).toEqual({
      displayName: 'Alice "Al" Smith',
      uri: 'sip:+14155550123@PBX.example.com:5061;user=phone',
      scheme: 'sip',
      user: '+14155550123',
      host: 'pbx.example.com',
      port: 5061,
      userParams: {},
      params: { user: 'phone', tag: '9fx' },
      uriHeaders: {},
    });
  });

  it('reads an unquoted display name and a bare addr-spec whose parameters belong to the header', () => {
    expect(parseSipAddress('Bob <sips:bob@example.org>')).toMatchObject({
      displayName: 'Bob',
      scheme: 'sips',
      user: 'bob',
    });
    expect(parseSipAddress('sip:alice@example.com;tag=abc')).toMatchObject({
      uri: 'sip:alice@example.com',
      user: 'alice',
      host: 'example.com',
      params: { tag: 'abc' },
    });
  });

  it('reads the number of a tel: URI', () => {
    expect(parseSipAddress('<tel:+1-415-555-0123;phone-context=example.com>')).toMatchObject({
      scheme: 'tel',
      user: '+1-415-555-0123',
      params: { 'phone-context': 'example.com' },
    });
  });

  it('percent-decodes the user part', () => {
    expect(parseSipAddress('<sip:%2B4930123456@gw.example.de>')?.user).toBe('+4930123456');
  });

  it.each(['', '   ', '"unterminated <sip:a@b>', '<sip:a@b', '"Name" sip:a@b'])(
    'gives up cleanly on %j',
    (text) => {
      expect(parseSipAddress(text)).toBeUndefined();
    },
  );

  it('keeps parameters named like Object.prototype members as plain parameters', () => {
    const address = parseSipAddress('<sip:a@b;constructor=x>;__proto__=y');
    expect(address?.params.constructor).toBe('x');
    expect(Object.getPrototypeOf(address?.params)).toBeNull();
  });
});

describe('normalizePhoneNumber', () => {
  it.each([
    ['(415) 555-0123', 'US', '+14155550123'],
    ['+1-415-555-0123', 'US', '+14155550123'],
    ['030 1234567', 'DE', '+49301234567'],
    ['004930123456', 'DE', '+4930123456'],
    // Does not normalise under a US default: kept as dialled, not turned into a US number.
    ['004930123456', 'US', '004930123456'],
    ['4711', 'US', '4711'],
    ['anonymous', 'US', 'anonymous'],
  ])('%s with default %s is %s', (raw, country, expected) => {
    expect(normalizePhoneNumber(raw, country)).toBe(expected);
  });
});

describe('SipHeaderBag', () => {
  it('looks names up case-insensitively with compact forms folded', () => {
    const bag = new SipHeaderBag([
      { name: 'f', value: '<sip:a@b>' },
      { name: 'TO', value: '<sip:c@d>' },
      { name: 'i', value: 'abc@host' },
    ]);
    expect(bag.first('From')).toBe('<sip:a@b>');
    expect(bag.first('t')).toBe('<sip:c@d>');
    expect(bag.first('call-id')).toBe('abc@host');
  });

  it('keeps every value of a repeated header and every entry of a list header', () => {
    const bag = new SipHeaderBag([
      {
        name: 'Diversion',
        value: '<tel:+14155550000>;reason=busy, "Desk, 2" <sip:200@pbx>;reason=no-answer',
      },
      { name: 'diversion', value: '<sip:300@pbx>' },
    ]);
    expect(bag.all('DIVERSION')).toEqual([
      '<tel:+14155550000>;reason=busy',
      '"Desk, 2" <sip:200@pbx>;reason=no-answer',
      '<sip:300@pbx>',
    ]);
  });

  it('strips control characters and bounds the length of values', () => {
    expect(sanitizeHeaderValue('gold\r\nX-Injected: 1\u0000')).toBe('gold X-Injected: 1');
    expect(sanitizeHeaderValue('x'.repeat(10000))).toHaveLength(1024);
  });

  it('splits lists only outside quotes and angle brackets', () => {
    expect(splitList('<sip:a@b;x=1,2>, "c, d" <sip:e@f>')).toEqual([
      '<sip:a@b;x=1,2>',
      '"c, d" <sip:e@f>',
    ]);
  });
});

describe('deriveCallFacts', () => {
  it('takes the caller from P-Asserted-Identity over From, and the dialled number from To', () => {
    const facts = deriveCallFacts(
      'rtc_1',
      [
        { name: 'From', value: '"Front desk" <sip:100@pbx.example.com>;tag=1' },
        {
          name: 'P-Asserted-Identity',
          value: '<sip:+1 (415) 555-0123@pbx.example.com;user=phone>',
        },
        { name: 't', value: '<sip:18005550100@sip.api.openai.com>' },
        { name: 'History-Info', value: '<sip:+14155550000@pbx.example.com>;index=1' },
      ],
      'US',
    );
    expect(addressPart(facts, 'caller', 'number')).toEqual(['+14155550123']);
    expect(addressPart(facts, 'from', 'display_name')).toEqual(['Front desk']);
    expect(addressPart(facts, 'called', 'number')).toEqual(['+18005550100']);
    expect(addressPart(facts, 'diversion', 'number')).toEqual(['+14155550000']);
    expect(addressPart(facts, 'from', 'params.tag')).toEqual(['1']);
    expect(facts.withheld).toBe(false);
  });

  it.each([
    [
      'Privacy: id',
      [
        { name: 'From', value: '<sip:+14155550123@x>' },
        { name: 'Privacy', value: 'id;critical' },
      ],
    ],
    [
      'an anonymous From',
      [{ name: 'From', value: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1' }],
    ],
    ['no caller at all', [{ name: 'To', value: '<sip:1@x>' }]],
  ])('marks a withheld caller: %s', (_case, headers) => {
    expect(deriveCallFacts('rtc_1', headers, 'US').withheld).toBe(true);
  });

  it('never throws on arbitrary header names and values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: fc.string(), value: fc.string() }), { maxLength: 12 }),
        (headers) => {
          const facts = deriveCallFacts('rtc_x', headers, 'US');
          expect(typeof facts.withheld).toBe('boolean');
        },
      ),
      { numRuns: 500 },
    );
  });
});
