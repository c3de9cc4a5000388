import { ChildProcess } from 'node:child_process';
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
});
