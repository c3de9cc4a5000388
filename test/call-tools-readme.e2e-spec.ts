import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { CallsModule, CallToolsService } from '../src';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { createTestApp, TestApp } from './support/test-app';

const ROOT = join(__dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SECTION = README.slice(README.indexOf('## Tools as Nest handlers'));
/** Where the example is compiled as if it were a file (so that packages resolve from here). */
const EXAMPLE_FILE = join(__dirname, 'readme-orders.tools.ts');

/** The first fenced block of a language after a heading of the README. */
function blockAfter(text: string, language: string): string {
  const block = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(text);
  expect(block).not.toBeNull();
  return block![1];
}

const configFile = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
const OPTIONS: ts.CompilerOptions = {
  ...ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT).options,
  noEmit: true,
  baseUrl: ROOT,
  // The package name, as a user imports it, is this checkout's public API.
  paths: { '@switchboard-voice/switchboard': ['src/index.ts'] },
};

/** Type errors of the example, as a user's tsc with the project's options would report them. */
function typeErrors(source: string): string[] {
  const host = ts.createCompilerHost(OPTIONS);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (path) => path === EXAMPLE_FILE || fileExists(path);
  const readFile = host.readFile.bind(host);
  host.readFile = (path) => (path === EXAMPLE_FILE ? source : readFile(path));
  const program = ts.createProgram([EXAMPLE_FILE], OPTIONS, host);
  const file = program.getSourceFile(EXAMPLE_FILE)!;
  return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map(
    (d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );
}

/** Runs the example as CommonJS, its import of the package answered by this checkout's API. */
function load(source: string): Record<string, unknown> {
  const js = ts.transpileModule(source, { compilerOptions: OPTIONS }).outputText;
  const module = { exports: {} as Record<string, unknown> };
  const requireFrom = (name: string) =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    name === '@switchboard-voice/switchboard' ? require('../src') : require(name);
  new Function('require', 'module', 'exports', js)(requireFrom, module, module.exports);
  return module.exports;
}

describe("the README's tools example runs as written", () => {
  const example = blockAfter(SECTION, 'ts');
  let t: TestApp;
  let tools: CallToolsService;

  beforeAll(async () => {
    const { OrdersModule } = load(example);
    t = await createTestApp({
      imports: [
        OrdersModule as never,
        CallsModule.forRoot({ store: new SqliteCallStore(':memory:') }),
      ],
    });
    tools = t.app.get(CallToolsService);
  });
  afterAll(() => t.close());

  it('compiles with the published types', () => {
    expect(typeErrors(example)).toEqual([]);
  });

  it('declares lookup_order to the model as the README shows', () => {
    const shown = JSON.parse(
      blockAfter(SECTION.slice(SECTION.indexOf('this declaration')), 'json'),
    );
    expect(tools.declarations(['lookup_order'])).toEqual([shown]);
  });

  it("answers each call of the README's table with its outcome and output", async () => {
    const table = SECTION.slice(SECTION.indexOf('| the call'));
    const lines = table.split('\n');
    const rows = lines
      .slice(
        2,
        lines.findIndex((line) => !line.startsWith('|')),
      )
      .map((line) => line.split(/ \| /).map((cell) => cell.replace(/^\|\s*|\s*\|?$/g, '').trim()))
      // The rows whose call is model arguments, as a code span.
      .filter(([call]) => call.startsWith('`{'));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const [call, outcome, output] of rows) {
      const args = /^`([^`]*)`/.exec(call)![1];
      const result = await tools.run(
        { tool_call_id: `call_${args}`, name: 'lookup_order', arguments: args },
        {
          call_id: 'rtc_readme',
          surface: 'realtime',
          surface_call_id: 'rtc_readme',
          from: '+14155550123',
          sip_headers: [],
          transfer_targets: [],
        },
      );
      expect([args, result.outcome]).toEqual([args, outcome.replace(/`/g, '')]);
      const shownOutput = /^`([^`]*)`/.exec(output)![1];
      if (shownOutput.includes('...')) {
        expect(result.output.startsWith(shownOutput.split('...')[0])).toBe(true);
      } else {
        expect(result.output).toBe(shownOutput);
      }
    }
  });
});
