import { dialOperand, numberOperand } from './number-operand';

describe('rule operands for number fields', () => {
  it('reads whole numbers like header values and pieces of numbers by their form', () => {
    expect([
      numberOperand('equals', 'tel:1-800-555-0100', 'US'),
      numberOperand('in', '030 1234567', 'DE'),
      numberOperand('prefix', 'tel:+49-30', 'DE'),
      numberOperand('suffix', '(555) 0100', 'US'),
      numberOperand('glob', '<sip:+1 800 *@gw.example.com>', 'US'),
    ]).toEqual(['+18005550100', '+49301234567', '+4930', '5550100', '+1800*']);
  });

  it('drops separators from dial patterns but keeps ranges inside sets', () => {
    expect([
      dialOperand('_1-800-[2-9]XX-XXXX'),
      dialOperand('_(4930) X.'),
      dialOperand('1.800.555.0100'),
      dialOperand('tel:+1-800-555-0100'),
    ]).toEqual(['_1800[2-9]XXXXXX', '_4930X.', '18005550100', '+18005550100']);
  });
});
