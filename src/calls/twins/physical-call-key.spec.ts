import { deriveCallFacts } from '../sip/call-facts';
import { physicalCallKey } from './physical-call-key';

const key = (headers: { name: string; value: string }[]) =>
  physicalCallKey(deriveCallFacts('rtc_1', headers, 'US'));

const INVITE = [
  { name: 'From', value: '"Alice" <sip:+14155550123@pbx.example.com>;tag=9fx' },
  { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
  { name: 'Call-ID', value: 'a84b4c76e66710@pbx.example.com' },
];

describe('physicalCallKey', () => {
  it('is the same for the same INVITE however its headers are spelt', () => {
    expect(key(INVITE)).toEqual(expect.any(String));
    expect(
      key([
        { name: 'i', value: ' a84b4c76e66710@pbx.example.com ' },
        { name: 't', value: 'sip:+18005550100@SIP.API.OPENAI.COM' },
        { name: 'f', value: '<sip:+14155550123@PBX.example.com> ; tag=9fx' },
        { name: 'X-Other', value: 'anything' },
      ]),
    ).toBe(key(INVITE));
  });

  it('differs when the Call-ID, the From tag, From or To differ', () => {
    const changed = (name: string, value: string) =>
      key(INVITE.map((header) => (header.name === name ? { name, value } : header)));
    expect(changed('Call-ID', 'A84b4c76e66710@pbx.example.com')).not.toBe(key(INVITE));
    expect(changed('From', '"Alice" <sip:+14155550123@pbx.example.com>;tag=other')).not.toBe(
      key(INVITE),
    );
    expect(changed('From', '<sip:+14155550999@pbx.example.com>;tag=9fx')).not.toBe(key(INVITE));
    expect(changed('To', '<sip:+18005550101@sip.api.openai.com>')).not.toBe(key(INVITE));
  });

  it('is undefined without a Call-ID: such a call pairs only by a shared id', () => {
    expect(key(INVITE.filter((header) => header.name !== 'Call-ID'))).toBeUndefined();
  });

  it('is a short digest, whatever the caller sent', () => {
    const long = key([{ name: 'Call-ID', value: 'x'.repeat(8000) }, ...INVITE.slice(0, 2)]);
    expect(long).toHaveLength(43);
  });
});
