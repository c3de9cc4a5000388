import { ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, startService } from './support/service-process';
import { TEST_SECRET } from './support/signing';
import { eventually } from './support/test-app';

const GOOD = `version: 1
rules:
  - id: support
    when: { field: called.number, equals: '+18005550100' }
    action: { reject: { status_code: 486 } }
`;
const BROKEN = GOOD.replace("equals: '+18005550100'", "regex: '('");
const REFUSED = /rules file edit refused/g;
const MAIN = join(__dirname, '..', 'dist', 'main.js');

/** "Billion laughs": nine levels of nine aliases, 9^9 strings once expanded. */
const ALIAS_BOMB = [
  'lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
  ...'bcdefghi'.split('').map((level, i) => {
    const below = 'abcdefghi'[i];
    return `${level}: &${level} [${Array(9).fill(`*${below}`).join(', ')}]`;
  }),
  'rules: []',
].join('\n');
const CODE_TAG = `rules:
  - id: x
    description: !!js/function "function () { return process.exit(1) }"
    action: { reject: {} }
`;
const CLEARED = /is valid again: the refused edit is cleared/g;

/** The rules file of the built service, edited on disk as an operator would. */
describe('the rules file of the running service', () => {
  let dir: string;
  let file: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-rules-file-'));
    file = join(dir, 'rules.yaml');
    writeFileSync(file, GOOD);
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(options: { logFile?: string } = {}): Promise<ServiceProcess> {
    const service = await startService(
      {
        OPENAI_WEBHOOK_SECRET: TEST_SECRET,
        DATA_DIR: join(dir, 'data'),
        RULES_FILE: file,
        PORT: '0',
        HOST: '127.0.0.1',
        NODE_ENV: 'production',
        ADMIN_TOKEN: 'tok',
      },
      options,
    );
    children.push(service.child);
    return service;
  }

  const rules = async (service: ServiceProcess) => {
    const response = await fetch(`http://127.0.0.1:${service.port}/rules`, {
      headers: { Authorization: 'Bearer tok' },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { version: string; last_refused_edit?: string };
  };
  const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

  it('clears last_refused_edit when a broken edit is reverted to the live bytes', async () => {
    const service = await start();
    const live = (await rules(service)).version;
    writeFileSync(file, BROKEN);
    await eventually(async () =>
      expect((await rules(service)).last_refused_edit).toContain('rules[0].when.regex'),
    );
    writeFileSync(file, GOOD);
    await eventually(async () => expect((await rules(service)).last_refused_edit).toBeUndefined());
    expect((await rules(service)).version).toBe(live);
  });

  it('logs a refused edit once while it stays broken, even when its log is in the watched directory, and its clearing once', async () => {
    // `npm start >> rules-dir/switchboard.log`: every log line changes the watched directory.
    const service = await start({ logFile: join(dir, 'switchboard.log') });
    writeFileSync(file, BROKEN);
    await eventually(() => expect(count(service.output(), REFUSED)).toBe(1));
    // Proving that nothing more is logged needs a window: a repeat came every ~50 ms before.
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      expect(count(service.output(), REFUSED)).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    writeFileSync(file, BROKEN.replace("regex: '('", "regex: '['"));
    await eventually(() => expect(count(service.output(), REFUSED)).toBe(2));
    writeFileSync(file, GOOD);
    await eventually(async () => expect((await rules(service)).last_refused_edit).toBeUndefined());
    await eventually(() => expect(count(service.output(), CLEARED)).toBe(1));
    expect(count(service.output(), REFUSED)).toBe(2);
  });

  describe('YAML that is not plain data', () => {
    it.each([
      ['an alias bomb', ALIAS_BOMB, 'refused as an alias bomb'],
      ['a code tag', CODE_TAG, 'rules.yaml:3: unknown tag !!js/function'],
      ['an alias before its anchor', 'rules: [*later]\nx: &later 1\n', 'Unresolved alias'],
    ])('refuses to start with %s, in one line naming the file', (_case, yaml, reason) => {
      writeFileSync(file, yaml);
      const result = spawnSync(process.execPath, [MAIN], {
        env: {
          ...process.env,
          NO_COLOR: '1',
          OPENAI_WEBHOOK_SECRET: TEST_SECRET,
          RULES_FILE: file,
          DATA_DIR: join(dir, 'data'),
          PORT: '0',
          HOST: '127.0.0.1',
        },
        encoding: 'utf8',
        timeout: 15_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^switchboard: cannot start: the routing rules are invalid: /),
      ]);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toContain(reason);
    });

    it('refuses the same edits of a running file, and the live rules stay', async () => {
      const service = await start();
      const live = (await rules(service)).version;
      writeFileSync(file, ALIAS_BOMB);
      await eventually(async () =>
        expect((await rules(service)).last_refused_edit).toContain('refused as an alias bomb'),
      );
      writeFileSync(file, CODE_TAG);
      await eventually(async () =>
        expect((await rules(service)).last_refused_edit).toContain('unknown tag !!js/function'),
      );
      expect((await rules(service)).version).toBe(live);
    });

    it('reads one anchor shared by thousands of rules, and a number written with + or 0 as written', async () => {
      const shared = Array.from(
        { length: 2000 },
        (_, i) => `  - { id: r${i}, when: { header: X-Id, equals: '${i}' }, action: *agent }`,
      );
      writeFileSync(
        file,
        [
          'rules:',
          '  - id: berlin',
          '    when: { field: called.number, equals: +4930123456 }',
          '    action: &agent { accept: { model: gpt-realtime } }',
          '  - { id: zeros, when: { header: X-Account, equals: 0012 }, action: *agent }',
          ...shared,
        ].join('\n'),
      );
      const service = await start();
      const { document } = (await rules(service)) as unknown as {
        document: { rules: { when: Record<string, unknown> }[] };
      };
      expect(document.rules).toHaveLength(2002);
      expect(document.rules[0].when.equals).toBe('+4930123456');
      expect(document.rules[1].when.equals).toBe('0012');
    });
  });
});
