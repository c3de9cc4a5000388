import { jsonPathLines, lineOf, parseHeaderLines, syntaxErrorLine } from './json-lines';

describe('jsonPathLines', () => {
  const text = JSON.stringify(
    {
      version: 1,
      rules: [
        { id: 'a', action: { reject: {} } },
        { id: 'b', when: { header: 'X' } },
      ],
    },
    null,
    2,
  );
  const lines = jsonPathLines(text);
  const lineWith = (needle: string) =>
    text.split('\n').findIndex((line) => line.includes(needle)) + 1;

  it('finds the line of each path the rules API names', () => {
    expect(lines.get('version')).toBe(lineWith('"version"'));
    expect(lines.get('rules[1].when.header')).toBe(lineWith('"header"'));
    expect(lines.get('rules[0].action.reject')).toBe(lineWith('"reject"'));
  });

  it('falls back to the nearest parent, and shows an unknown key at its own line', () => {
    expect(lineOf(lines, 'rules[1].when.header.pattern')).toBe(lineWith('"header"'));
    expect(lineOf(lines, 'rules[1]', 'unknown key "when" (allowed: ...)')).toBe(lineWith('"when"'));
    expect(lineOf(lines, '(document)')).toBe(1);
  });

  it('reads what it can of text that is not JSON', () => {
    expect(jsonPathLines('{\n  "rules": [\n    {"id": \n').get('rules[0].id')).toBe(3);
  });

  it("turns JSON.parse's error into a line", () => {
    const broken = '{\n  "rules": [\n    ,\n  ]\n}';
    let error: Error | undefined;
    try {
      JSON.parse(broken);
    } catch (caught) {
      error = caught as Error;
    }
    expect(syntaxErrorLine(broken, error!)).toBe(3);
  });
});

describe('parseHeaderLines', () => {
  it('reads pasted "Name: value" lines, skipping the request line', () => {
    expect(
      parseHeaderLines('INVITE sip:+1800@x SIP/2.0\nFrom: <sip:+1415@pbx>;tag=1\n\nX-Tier:gold\n'),
    ).toEqual([
      { name: 'From', value: '<sip:+1415@pbx>;tag=1' },
      { name: 'X-Tier', value: 'gold' },
    ]);
  });
});
