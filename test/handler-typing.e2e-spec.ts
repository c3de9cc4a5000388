import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { KNOWN_EVENT_TYPES } from '../src/webhooks/handlers/webhook-event-pattern';

const ROOT = join(__dirname, '..');
const FIXTURE = join(__dirname, 'fixtures', 'handler-typing', 'handlers.ts');
const EXPECT_ERROR = /^\s*\/\/ @ts-expect-error/;

const configFile = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
const OPTIONS = {
  ...ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT).options,
  noEmit: true,
};
let previous: ts.Program | undefined;

/**
 * Type-checks files, given their text, with the project's own compiler options; the errors of
 * those files only (the library itself is checked by `npm run lint`). Programs reuse the last
 * one's parsed files.
 */
function compile(source: string, file = FIXTURE): readonly ts.Diagnostic[] {
  const host = ts.createCompilerHost(OPTIONS);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (path) => path === file || fileExists(path);
  const readFile = host.readFile.bind(host);
  host.readFile = (path) => (path === file ? source : readFile(path));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (path, language, onError) =>
    path === file
      ? ts.createSourceFile(path, source, language)
      : (previous?.getSourceFile(path) ?? getSourceFile(path, language, onError));
  const program = ts.createProgram([file], OPTIONS, host);
  previous = program;
  const sourceFile = program.getSourceFile(file)!;
  return [
    ...program.getSyntacticDiagnostics(sourceFile),
    ...program.getSemanticDiagnostics(sourceFile),
  ];
}

function describeAll(diagnostics: readonly ts.Diagnostic[]): string {
  return diagnostics
    .map((d) => {
      const line = d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1 : 0;
      return `${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0]}`;
    })
    .join('\n');
}

describe('@OnWebhookEvent types its pattern and the handler parameter (tsc)', () => {
  const original = readFileSync(FIXTURE, 'utf8');
  const lines = original.split('\n');
  // The line after each marker is the mistake it stands for (1-based line numbers).
  const mistakes = lines.flatMap((line, index) => (EXPECT_ERROR.test(line) ? [index + 2] : []));

  it('compiles the fixture: every right handler passes, every marked mistake is an error', () => {
    expect(mistakes.length).toBeGreaterThanOrEqual(8);
    // An unused @ts-expect-error is itself an error (TS2578), so a mistake that compiled shows up.
    expect(describeAll(compile(original))).toBe('');
  });

  it('reports each mistake on its own line once the markers are gone, and nothing else', () => {
    const unmarked = lines.map((line) => (EXPECT_ERROR.test(line) ? '' : line)).join('\n');
    const diagnostics = compile(unmarked);
    const errorLines = new Set(
      diagnostics.map((d) => d.file!.getLineAndCharacterOfPosition(d.start!).line + 1),
    );
    expect([...errorLines].sort((a, b) => a - b)).toEqual(mistakes);
    expect(describeAll(diagnostics)).toMatch(/"batch\.complete"/);
  });
});

describe("the README's handlers", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const packageName = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string }
  ).name;

  it('compile as written, against the library', () => {
    const example = /```ts\n(\/\/ src\/billing\/billing\.module\.ts in your app\n[\s\S]*?)```/.exec(
      readme,
    );
    expect(example).not.toBeNull();
    // In the README the library is imported by its package name; here it is the source.
    const source = example![1].replace(
      new RegExp(`from '(switchboard|${packageName.replace(/[/.]/g, '\\$&')})'`, 'g'),
      `from '${join(ROOT, 'src')}'`,
    );
    expect(source).toContain(join(ROOT, 'src'));
    const file = join(__dirname, 'fixtures', 'handler-typing', 'readme-example.ts');
    expect(describeAll(compile(source, file))).toBe('');
  });

  it('list every event type a handler can name', () => {
    const missing = KNOWN_EVENT_TYPES.filter((type) => !readme.includes(`\`${type}\``));
    expect(missing).toEqual([]);
  });
});
