import { redactNumbers } from './transcript-redaction';

describe('redactNumbers', () => {
  it('masks all but the last four digits of a long number, keeping its grouping', () => {
    expect(redactNumbers('my card is 4111 1111 1111 1234, ok')).toBe(
      'my card is **** **** **** 1234, ok',
    );
    expect(redactNumbers('call +1 (415) 555-0123')).toBe('call +* (***) ***-0123');
  });

  it('leaves short numbers and text alone', () => {
    expect(redactNumbers('order 1234 arrives in 3 days')).toBe('order 1234 arrives in 3 days');
  });
});
