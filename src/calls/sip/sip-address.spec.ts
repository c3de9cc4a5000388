import fc from 'fast-check';
import { addressPart, deriveCallFacts } from './call-facts';
import { readPhoneNumber } from './address-number';
import { parseSipAddress } from './sip-address';

/** Address corner cases of RFC 3261's grammar, RFC 4475 (torture tests) and RFC 5118 (IPv6). */
describe('parseSipAddress by the RFC 3261 grammar', () => {
  describe('parameters inside the user part (RFC 3261 section 19.1.1, RFC 3966)', () => {
    it('keeps the number of a STIR/SHAKEN caller and exposes verstat', () => {
      expect(
        parseSipAddress(
          '"Verified" <sip:+12125550199;verstat=TN-Validation-Passed@ims.carrier.example;user=phone>;tag=v1',
        ),
      ).toEqual({
        displayName: 'Verified',
        uri: 'sip:+12125550199;verstat=TN-Validation-Passed@ims.carrier.example;user=phone',
        scheme: 'sip',
        user: '+12125550199',
        userParams: { verstat: 'TN-Validation-Passed' },
        host: 'ims.carrier.example',
        params: { user: 'phone', tag: 'v1' },
        uriHeaders: {},
      });
    });

    it('keeps the number of a ported number and exposes npdi and rn', () => {
      expect(
        parseSipAddress('<sip:+14155550123;npdi;rn=+14155551000@sip.api.openai.com;user=phone>'),
      ).toMatchObject({
        user: '+14155550123',
        userParams: { npdi: '', rn: '+14155551000' },
        host: 'sip.api.openai.com',
        params: { user: 'phone' },
      });
    });

    it('reads a number with parameters without user=phone, and without angle brackets', () => {
      expect(parseSipAddress('sip:+1-415-555-0123;isub=1411@gw.example.com;tag=7')).toMatchObject({
        user: '+1-415-555-0123',
        userParams: { isub: '1411' },
        host: 'gw.example.com',
        params: { tag: '7' },
      });
    });

    it('keeps ";" as part of a user name that is not a number (RFC 4475 semiuri)', () => {
      expect(parseSipAddress('<sip:user;par=u%40example.net@example.com>')).toMatchObject({
        user: 'user;par=u@example.net',
        userParams: {},
        host: 'example.com',
      });
    });

    it('reads every character the grammar allows in a user part and a password (RFC 4475 intmeth)', () => {
      const address = parseSipAddress(
        "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com>",
      );
      expect(address).toMatchObject({
        user: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
        host: 'example.com',
      });
      expect(address?.port).toBeUndefined();
    });
  });

  describe('escapes (RFC 4475 esc01, esc02, escnull)', () => {
    it('percent-decodes user parts as UTF-8, keeping what is not an escape', () => {
      const cases: [string, string, string][] = [
        ['sip:%75se%72@example.com', 'user', 'example.com'],
        ['<sip:I%20have%20spaces@example.net>;tag=938', 'I have spaces', 'example.net'],
        ['<sip:sips%3Auser%40example.com@example.net>', 'sips:user@example.com', 'example.net'],
        ['sip:null-%00-null@example.com;tag=839923423', 'null-\u0000-null', 'example.com'],
        ['<sip:%C3%A9t%C3%A9@example.com>', 'été', 'example.com'],
        ['<sip:bad%ZZ%C3@example.com>', 'bad%ZZ\ufffd', 'example.com'],
      ];
      expect(cases.map(([text]) => [text, userAndHost(text)])).toEqual(
        cases.map(([text, user, host]) => [text, { user, host }]),
      );
    });

    it('decodes URI parameters but not the display name', () => {
      expect(
        parseSipAddress('<sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>'),
      ).toMatchObject({ user: 'caller', params: { lr: '', name: 'value%41' } });
      expect(parseSipAddress('"%Z%45" <sip:resource@example.com>')?.displayName).toBe('%Z%45');
    });
  });

  describe('linear white space (RFC 4475 wsinv)', () => {
    it('reads every address of the tortuous INVITE, unfolded', () => {
      expect(
        parseSipAddress('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n'),
      ).toMatchObject({
        uri: 'sip:vivekg@chair-dnrc.example.com',
        user: 'vivekg',
        host: 'chair-dnrc.example.com',
        params: { tag: '1918181833n' },
      });
      expect(
        parseSipAddress(
          '"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>   ;   tag = 98asjd8',
        ),
      ).toMatchObject({ displayName: 'J Rosenberg \\"', params: { tag: '98asjd8' } });
      expect(
        parseSipAddress(
          '"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =   newvalue ;   secondparam ; q = 0.33',
        ),
      ).toMatchObject({
        displayName: 'Quoted string ""',
        params: { newparam: 'newvalue', secondparam: '', q: '0.33' },
      });
    });

    it('gives host and port of a bare addr-spec followed by " ;tag"', () => {
      const address = parseSipAddress('sip:+14155550100@gw.example.com:5060 ;tag=1');
      expect(address).toMatchObject({
        user: '+14155550100',
        host: 'gw.example.com',
        port: 5060,
        params: { tag: '1' },
      });
    });
  });

  describe('display names', () => {
    it('reads token lists and quoted strings, liberal where the meaning is plain', () => {
      const cases: [string, string][] = [
        // RFC 4475 lwsdisp: no white space before "<"
        ['caller<sip:caller@example.com>;tag=323', 'caller'],
        // RFC 4475 intmeth: a token list of unusual token characters
        [
          "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>",
          "token1~` token2'+_ token3*%!.-",
        ],
        // tokens are separated by any run of white space
        ['Alice \t  Smith <sip:alice@example.com>', 'Alice Smith'],
        ['"" <sip:anonymous@anonymous.invalid>', ''],
        ['"Smith, \\"Al\\" <x>" <sip:al@example.com>', 'Smith, "Al" <x>'],
        // RFC 4475 baddn: not tokens, but plain enough
        ['Bell, Alexander <sip:a.g.bell@example.com>;tag=43', 'Bell, Alexander'],
      ];
      expect(cases.map(([text]) => [text, parseSipAddress(text)?.displayName])).toEqual(cases);
    });

    it('reads a quoted header parameter whole, ";" and "<" included', () => {
      expect(
        parseSipAddress(
          "token1 <sip:mundane@example.com>;fromParam''~+*_!.-%=\"работающий\";tag=_token~1'+`*%!-.",
        )?.params,
      ).toEqual({ "fromparam''~+*_!.-%": 'работающий', tag: "_token~1'+`*%!-." });
      expect(parseSipAddress('sip:a@example.com;x="<b>;c";tag=1')?.params).toEqual({
        x: '<b>;c',
        tag: '1',
      });
    });
  });

  describe('hosts, ports, schemes and URI headers', () => {
    it('reads IPv6 references (RFC 5118), IPv4 addresses, names and ports', () => {
      const cases: [string, string | undefined, number | undefined][] = [
        ['<sip:alice@[2001:db8::1]:5060;transport=tcp>', '[2001:db8::1]', 5060],
        ['sip:user@[2001:db8::10]', '[2001:db8::10]', undefined],
        // RFC 5118 section 4.3: inside the brackets, ":5070" is part of the address, not a port
        ['<sip:[2001:db8::10:5070]>', '[2001:db8::10:5070]', undefined],
        ['<sip:[2001:db8::10]:5070>', '[2001:db8::10]', 5070],
        [
          '"Caller" <sip:caller@[2001:DB8::9:255.255.255.255]>',
          '[2001:db8::9:255.255.255.255]',
          undefined,
        ],
        ['<sip:bob@192.0.2.4:5061>', '192.0.2.4', 5061],
        ['<sip:bob@Example.COM:99999>', 'example.com', undefined],
        // an IPv6 reference that never closes has no host to trust
        ['<sip:user@[2001:db8::10;lr>', undefined, undefined],
        // RFC 4475 badaspec: white space inside the angle brackets
        ['"Watson, Thomas" < sip:t.watson@example.org >', 'example.org', undefined],
      ];
      expect(
        cases.map(([text]) => [text, parseSipAddress(text)?.host, parseSipAddress(text)?.port]),
      ).toEqual(cases);
    });

    it('reads sips: and the URI headers after "?" (RFC 4475 regescrt)', () => {
      expect(
        parseSipAddress('<sips:user@example.com?Route=%3Csip:sip.example.com%3E&Priority=urgent>'),
      ).toMatchObject({
        scheme: 'sips',
        user: 'user',
        host: 'example.com',
        uriHeaders: { route: '<sip:sip.example.com>', priority: 'urgent' },
      });
    });

    it('reads a tel: URI with parameters (RFC 3966)', () => {
      expect(
        parseSipAddress('<tel:+1-201-555-0123;ext=1234;phone-context=example.com>;tag=t'),
      ).toMatchObject({
        scheme: 'tel',
        user: '+1-201-555-0123',
        userParams: { ext: '1234', 'phone-context': 'example.com' },
        params: { ext: '1234', 'phone-context': 'example.com', tag: 't' },
      });
    });
  });

  it('finds no SIP address in what the grammar refuses or in other schemes (RFC 4475 quotbal, unksm2)', () => {
    const refused = [
      '"Mr. J. User <sip:j.user@example.com>', // an unterminated quoted display name
      '<sip:a@b',
      '"Name" sip:a@b', // a display name without angle brackets
      '',
      '   ',
    ];
    expect(refused.map((text) => [text, parseSipAddress(text)])).toEqual(
      refused.map((text) => [text, undefined]),
    );
    const others = ['<http://www.example.com>;tag=3234233', 'isbn:2983792873', '<name:John_Smith>'];
    expect(others.map((text) => userAndHost(text))).toEqual(
      others.map(() => ({ user: undefined, host: undefined })),
    );
  });

  it('never throws, bounds its work on hostile values, and parameters never touch Object.prototype', () => {
    const alphabet = fc.constantFrom(...'sip:tel+1;=@<>"\\ ?&[]%3A.,_-~'.split(''));
    const hostile = [
      ';'.repeat(1024),
      `<sip:${'+1;'.repeat(340)}@x>`,
      `"${'\\"'.repeat(511)}`,
      `sip:${'a;'.repeat(511)}@`,
      `<sip:x@[${':'.repeat(1000)}]>`,
      `${'"a" '.repeat(256)}`,
      `<sip:x@h;${'p=1;'.repeat(254)}>`,
    ];
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 80 }).map((chars) => chars.join('')),
        (text) => {
          const address = parseSipAddress(text);
          if (address) {
            expect(Object.getPrototypeOf(address.params)).toBeNull();
            expect(Object.getPrototypeOf(address.userParams)).toBeNull();
            expect(Object.getPrototypeOf(address.uriHeaders)).toBeNull();
          }
        },
      ),
      { numRuns: 2000, examples: hostile.map((text) => [text]) },
    );
  });
});

function userAndHost(text: string) {
  const address = parseSipAddress(text);
  return { user: address?.user, host: address?.host };
}

describe('call facts from carrier header forms', () => {
  const facts = deriveCallFacts(
    'rtc_1',
    [
      {
        name: 'From',
        value:
          '"Verified" <sip:+12125550199;verstat=TN-Validation-Passed@ims.carrier.example;user=phone>;tag=v1',
      },
      {
        name: 'To',
        value: '<sip:+14155550123;npdi;rn=+14155551000@sip.api.openai.com;user=phone>',
      },
      { name: 'Contact', value: 'sip:+14155550100@[2001:db8::1]:5060 ;expires=60' },
      { name: 'Diversion', value: '<tel:555-0123;phone-context=+1-415>;reason=unconditional' },
    ],
    'US',
  );

  it('gives number, user and user parameters of both parties', () => {
    expect(addressPart(facts, 'caller', 'number')).toEqual(['+12125550199']);
    expect(addressPart(facts, 'caller', 'user')).toEqual(['+12125550199']);
    expect(addressPart(facts, 'caller', 'user_params.verstat')).toEqual(['TN-Validation-Passed']);
    expect(addressPart(facts, 'called', 'number')).toEqual(['+14155550123']);
    expect(addressPart(facts, 'called', 'user_params.rn')).toEqual(['+14155551000']);
    expect(addressPart(facts, 'called', 'user_params.npdi')).toEqual(['']);
    expect(addressPart(facts, 'contact', 'host')).toEqual(['[2001:db8::1]']);
    expect(addressPart(facts, 'contact', 'port')).toEqual(['5060']);
    expect(addressPart(facts, 'contact', 'params.expires')).toEqual(['60']);
  });

  it('reads a local tel: number in the context of a global prefix (RFC 3966 section 5.1.5)', () => {
    expect(addressPart(facts, 'diversion', 'number')).toEqual(['+14155550123']);
  });
});

describe('readPhoneNumber (a number in a rule, read like a header value)', () => {
  it('reads URIs, name-addrs and written numbers alike', () => {
    const cases: [string, string][] = [
      ['tel:1-800-555-0100', '+18005550100'],
      ['tel:+1-800-555-0100;phone-context=example.com', '+18005550100'],
      ['<sip:18005550100@gw.example.com;user=phone>', '+18005550100'],
      ['<sip:+1 (800) 555-0100@gw.example.com>', '+18005550100'],
      ['+1 800 555 0100', '+18005550100'],
      ['800-555-0100', '+18005550100'],
      ['(800) 555-0100', '+18005550100'],
      ['4711', '4711'],
      ['anonymous', 'anonymous'],
    ];
    expect(cases.map(([text]) => [text, readPhoneNumber(text, 'US')])).toEqual(cases);
  });
});
