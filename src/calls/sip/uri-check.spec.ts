import fc from 'fast-check';
import { checkTargetUri } from './uri-check';

describe('checkTargetUri (refer targets, strictly by RFC 3261 and RFC 3966)', () => {
  it.each([
    'sip:204@pbx.example.com',
    'sips:alice@example.com:5061;transport=tls',
    'sip:+14155550199@gw.example.com;user=phone',
    'sip:+12125550199;verstat=TN-Validation-Passed@ims.carrier.example;user=phone',
    "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
    'sip:I%20have%20spaces@example.net',
    'sip:pbx.example.com',
    'sip:queue@192.0.2.4:5060',
    'sip:desk@[2001:db8::1]:5060',
    'sip:desk@[::ffff:192.0.2.10]',
    'sip:desk@[2001:db8:0:0:0:0:0:1]',
    'sip:user@example.com?Replaces=abc%40host&Priority=urgent',
    'sip:user@example.com;lr;maddr=[2001:db8::1]',
    'tel:+14155550199',
    'tel:+1-415-555-0199;ext=123',
    'tel:7042;phone-context=example.com',
    'tel:555-0199;phone-context=+1-415',
  ])('accepts %s', (uri) => {
    expect(checkTargetUri(uri)).toBeUndefined();
  });

  it.each([
    ['sip:@pbx.example.com', 'has an empty user part before "@"'],
    ['sip:', 'has no host'],
    ['sip:204@', 'has no host'],
    [
      'sip:a b@pbx.example.com',
      'has a user part "a b" with a character that must be percent-encoded',
    ],
    ['sip:a"b@pbx.example.com', 'must be percent-encoded'],
    ['sip:204@pbx example.com', 'is not a host name or IP address'],
    ['sip:204@-pbx.example.com', 'is not a host name or IP address'],
    ['sip:204@pbx.example.123', 'is not a host name or IP address'],
    ['sip:204@pbx.example.com:99999', 'has a port "99999"'],
    ['sip:204@pbx.example.com:', 'has a port ""'],
    ['sip:204@[2001:db8::1', 'without its closing "]"'],
    ['sip:204@[2001:db8::1::2]', 'is not an IPv6 address'],
    ['sip:204@[1:2:3:4:5:6:7:8:9]', 'is not an IPv6 address'],
    ['sip:204@[2001:db8::1]x', 'unexpected text "x"'],
    ['sip:204@pbx.example.com;=x', 'malformed parameter'],
    ['sip:204@pbx.example.com;a b', 'malformed parameter'],
    ['sip:204@pbx.example.com?nothing', 'malformed header'],
    ['sip:204@pbx.example.com@evil.example', 'is not a host name or IP address'],
    ['tel:', 'is not a phone number'],
    ['tel:+1', 'is not a phone number'],
    ['tel:+999123456', 'is not a phone number'],
    ['tel:+1 415 555 0199', 'is not a phone number'],
    ['tel:4711', 'without the phone-context parameter'],
    ['tel:+14155550199;ext=abc', 'malformed parameter'],
    ['tel:+14155550199;phone-context=', 'malformed parameter'],
    ['http://example.com', 'is not a sip:, sips: or tel: URI'],
    ['sip', 'is not a sip:, sips: or tel: URI'],
    [`sip:${'a'.repeat(2050)}@x.example`, 'is longer than 2048 characters'],
  ])('refuses %s: %s', (uri, problem) => {
    expect(checkTargetUri(uri)).toContain(problem);
  });

  it('never throws', () => {
    const alphabet = fc.constantFrom(...'sipte:+1;=@[]%3A.,_-~?&/ "'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }), (chars) => {
        const problem = checkTargetUri(chars.join(''));
        expect(problem === undefined || typeof problem === 'string').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
