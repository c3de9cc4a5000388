import type { CallToolRunner } from '../tools/call-tool-runner';

/**
 * Warnings for `call_tools` names that no `@CallTool` handler of this application has. Such a
 * name is valid (the rules may be written before the handler is deployed, or shared by apps),
 * so the rules are not refused; but the model is silently not offered the tool, which is a
 * typo's usual effect, so saving, listing and evaluating the rules say so.
 */
export function toolNameWarnings(document: unknown, runner: CallToolRunner | undefined): string[] {
  if (!runner || typeof document !== 'object' || document === null) return [];
  const doc = document as { rules?: unknown; default?: unknown; on_error?: unknown };
  const known = 'names' in runner ? (runner as { names(): string[] }).names() : undefined;
  const list = known ? ` (the tools are: ${[...known].sort().join(', ') || 'none'})` : '';
  const warnings: string[] = [];
  const check = (action: unknown, where: string, label: string) => {
    const accept = (action as { accept?: { call_tools?: unknown } } | undefined)?.accept;
    const tools = accept?.call_tools;
    if (!Array.isArray(tools)) return;
    tools.forEach((name, i) => {
      if (typeof name === 'string' && !runner.has(name))
        warnings.push(
          `${label}${where}.accept.call_tools[${i}]: no @CallTool handler is named "${name}" in this application: the model is not offered it${list}`,
        );
    });
  };
  if (Array.isArray(doc.rules))
    doc.rules.forEach((rule: { id?: unknown; action?: unknown } | null, i) => {
      const label = typeof rule?.id === 'string' ? `rule "${rule.id}": ` : '';
      check(rule?.action, `rules[${i}].action`, label);
    });
  check(doc.default, 'default', '');
  check(doc.on_error, 'on_error', '');
  return warnings;
}
