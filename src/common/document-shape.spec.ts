import { shapeProblem } from './document-shape';

describe('shapeProblem', () => {
  const nested = (levels: number) => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { a: value };
    return value;
  };

  it('accepts 64 levels and refuses 65, at any depth without recursion', () => {
    expect(shapeProblem(nested(64))).toBeUndefined();
    expect(shapeProblem(nested(65))).toBe('nests lists and objects deeper than 64 levels');
    expect(shapeProblem(nested(200_000))).toBe('nests lists and objects deeper than 64 levels');
  });

  it('counts a shared value each time it is used, as a YAML alias expands', () => {
    let value: unknown = Array(10).fill('lol');
    for (let level = 0; level < 6; level++) value = Array(10).fill(value); // 10^7 strings
    expect(shapeProblem(value)).toBe('holds more than 1,000,000 values');
  });

  it('ends on a value that contains itself', () => {
    const loop: unknown[] = [];
    loop.push(loop);
    expect(shapeProblem(loop, { maxDepth: 1_000_000_000, maxValues: 1000 })).toBe(
      'holds more than 1,000 values',
    );
  });
});
