import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CallsModule } from '../src/calls/calls.module';
import { compileRuleSet } from '../src/calls/rules/rule-set.compiler';
import { parseRulesText, readRulesFile } from '../src/calls/rules/rules-file';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { createTestApp, TestApp } from './support/test-app';

const ROOT = join(__dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const EXAMPLE_RULES = join(ROOT, 'rules', 'example.yaml');

/** The first fenced block of a language after a heading of the README. */
function blockAfter(heading: string, language: string): string {
  const at = README.indexOf(heading);
  expect(at).toBeGreaterThanOrEqual(0);
  const block = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(README.slice(at));
  expect(block).not.toBeNull();
  return block![1];
}

/** Runs shell text with bash (asynchronously: the app it calls runs in this process). */
function bash(script: string, env: Record<string, string>) {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
}

describe("the README's examples run as written", () => {
  it('the rules file excerpt compiles and is, rule for rule, what rules/example.yaml says', () => {
    const excerpt = parseRulesText(blockAfter('### A rules file', 'yaml'), 'README.md')
      .document as {
      settings: unknown;
      rules: { id: string }[];
      default: unknown;
      on_error: unknown;
    };
    expect(compileRuleSet(excerpt).warnings).toEqual([]);
    const example = readRulesFile(EXAMPLE_RULES).document as typeof excerpt;
    expect(excerpt.settings).toEqual(example.settings);
    expect(excerpt.default).toEqual(example.default);
    expect(excerpt.on_error).toEqual(example.on_error);
    const ids = excerpt.rules.map((rule) => rule.id);
    // The same rules, in the same order, each exactly as written in the file.
    expect(example.rules.filter((rule) => ids.includes(rule.id))).toEqual(excerpt.rules);
  });

  it('the offline tester command passes', async () => {
    const command = /^npm run rules:test -- .*$/m.exec(
      blockAfter('### Testing rules offline', 'sh'),
    );
    expect(command).not.toBeNull();
    const result = await bash(command![0], {});
    expect(result.stdout).toContain('9 of 9 case(s) decide as expected');
    expect(result.code).toBe(0);
  });

  describe('the rules API commands', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        options: { adminToken: 'readme-token' },
        listen: true,
        imports: [
          CallsModule.forRoot({
            store: new SqliteCallStore(':memory:'),
            seedRulesFile: EXAMPLE_RULES,
          }),
        ],
      });
    });
    afterAll(() => t.close());

    it('try a call, then add a rule naming the version it applies to', async () => {
      const script = blockAfter('### The rules API (admin token)', 'sh').replace(
        /localhost:3000/g,
        `127.0.0.1:${t.port}`,
      );
      const result = await bash(script, { ADMIN_TOKEN: 'readme-token' });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      // The evaluation: the gold caller reaches the senior agent, as the README says.
      expect(result.stdout).toContain('"rule":"vip-support"');
      // The edit: accepted, the new rule in the answer.
      expect(result.stdout).toMatch(/"id":"spam"/);
      const rules = await fetch(`http://127.0.0.1:${t.port}/rules`, {
        headers: { Authorization: 'Bearer readme-token' },
      });
      const body = (await rules.json()) as { document: { rules: { id: string }[] } };
      expect(body.document.rules.map((rule) => rule.id)).toContain('spam');
    });
  });
});
