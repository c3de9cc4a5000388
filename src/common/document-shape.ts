/**
 * How deep and how large a parsed document (a JSON body, a rules file) may be before anything
 * walks it. Recursive walkers (class-transformer, structuredClone, our own compilers) overflow
 * the stack on a body nested 100,000 levels deep, which JSON.parse reads without complaint;
 * a YAML alias expands to a copy each time it is walked.
 */
export interface ShapeLimits {
  /** Levels of nested lists and objects (a scalar at the top is level 0). */
  maxDepth: number;
  /** Values in all, counting each use of a shared (aliased) value again. */
  maxValues: number;
}

export const DOCUMENT_LIMITS: ShapeLimits = { maxDepth: 64, maxValues: 1_000_000 };

/** What is wrong with the shape, in words, or undefined. Iterative: any depth is safe. */
export function shapeProblem(
  value: unknown,
  limits: ShapeLimits = DOCUMENT_LIMITS,
): string | undefined {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  let values = 0;
  while (pending.length > 0) {
    const next = pending.pop()!;
    values += 1;
    if (values > limits.maxValues)
      return `holds more than ${limits.maxValues.toLocaleString('en-US')} values`;
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth >= limits.maxDepth)
      return `nests lists and objects deeper than ${limits.maxDepth} levels`;
    const children = Array.isArray(next.value) ? next.value : Object.values(next.value);
    for (const child of children) pending.push({ value: child, depth: next.depth + 1 });
  }
  return undefined;
}

/**
 * Replaces every list or object nested deeper than `maxDepth` with `null`, in place, and says
 * how many were replaced. Iterative, so any depth is safe: after it, recursive walkers are too.
 */
export function pruneDeeperThan(value: unknown, maxDepth: number): number {
  const pending: { holder: Record<string, unknown> | unknown[]; depth: number }[] = [];
  if (typeof value === 'object' && value !== null)
    pending.push({ holder: value as Record<string, unknown>, depth: 0 });
  let pruned = 0;
  while (pending.length > 0) {
    const { holder, depth } = pending.pop()!;
    const entries = holder as Record<string, unknown>;
    for (const key of Object.keys(entries)) {
      const child = entries[key];
      if (typeof child !== 'object' || child === null) continue;
      if (depth + 1 >= maxDepth) {
        entries[key] = null;
        pruned += 1;
      } else pending.push({ holder: child as Record<string, unknown>, depth: depth + 1 });
    }
  }
  return pruned;
}
