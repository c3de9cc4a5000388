import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser';
import { FakeOpenAI } from './support/fake-openai';
import { deliverTo, ringingCall, ServiceProcess, startService } from './support/service-process';
import { TEST_SECRET } from './support/signing';
import { eventually } from './support/test-app';

const TOKEN = 'console-admin-token';
/** `npm run console:screenshots` sets this: the views are saved there as PNG for the README. */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;

interface CallRecord {
  call_id: string;
  decision: {
    rule: string | null;
    explanation: { rules_before: { rule: string; failed: string }[] };
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// The console in Debian's Chromium, against the built service (dist/main.js) with call control
// sent to the fake OpenAI: what an operator does, click by click.
describe('the call console in a browser', () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  let service: ServiceProcess;
  let env: Record<string, string>;
  let browser: Browser;
  let page: Page;
  let base: string;
  let calls = 0;

  const api = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      etag: response.headers.get('etag'),
      body: (await response.json()) as T,
    };
  };
  const ring = async () => {
    const id = `rtc_console_${++calls}`;
    expect(await deliverTo(service.port, ringingCall(id))).toBe(200);
    return id;
  };
  const boardRow = (id: string) => page.locator(`[role=row][data-call-id="${id}"]`);
  const shoot = async (name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`) });
  };

  beforeAll(async () => {
    fake = await FakeOpenAI.start();
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-console-'));
    env = {
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      ADMIN_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      // A fixed port, so that the restarted service is found at the same address.
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
    };
    service = await startService(env);
    base = `http://127.0.0.1:${service.port}`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    service?.child.kill('SIGKILL');
    await fake?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a wrong token, then signs in and keeps the token for the tab only', async () => {
    expect(service.output()).toContain('call console at /console');
    await page.goto(`${base}/console`);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('That token was refused').waitFor({ timeout: 10_000 });
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Calls' }).waitFor({ timeout: 10_000 });
    await page.getByTestId('stream-status').getByText('Live').waitFor({ timeout: 10_000 });
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([TOKEN]);
    expect(await page.evaluate('Object.keys(localStorage).length')).toBe(0);
  });

  it('shows a ringing call on the board as it arrives, live from the stream', async () => {
    const id = await ring();
    // No timed assertion: bounded waits; it arrives over the WebSocket, no reload.
    await boardRow(id).waitFor({ timeout: 10_000 });
    await expect(boardRow(id).textContent()).resolves.toContain('+14155550123');
    await expect(boardRow(id).textContent()).resolves.toContain('+18005550100');
    await shoot('calls');
  });

  it("tells the call's story: the rule that matched and why each rule before it did not", async () => {
    const id = await ring();
    await boardRow(id).waitFor({ timeout: 10_000 });
    await boardRow(id).getByRole('link').click();
    const timeline = page.getByTestId('timeline');
    await timeline.waitFor({ timeout: 10_000 });
    const { body: record } = await api<CallRecord>('GET', `/calls/${id}`);
    await timeline
      .getByText(`Decided by rule ${record.decision.rule}`)
      .waitFor({ timeout: 10_000 });
    const text = await timeline.textContent();
    expect(record.decision.explanation.rules_before.length).toBeGreaterThan(0);
    for (const failure of record.decision.explanation.rules_before) {
      expect(text).toContain(`rule ${failure.rule} did not match: ${failure.failed}`);
    }
    expect(text).toContain('OpenAI confirmed the accept');
    await shoot('call');
  });

  it('hangs up from the call view, after a confirmation, and OpenAI gets the hang-up', async () => {
    const id = await ring();
    await page.goto(`${base}/console/calls/${id}`);
    await page
      .getByTestId('timeline')
      .getByText('OpenAI confirmed the accept')
      .waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Hang up' }).click();
    const dialog = page.getByRole('dialog', { name: 'Hang up this call?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Hang up' }).click();
    await page.getByTestId('action-result').getByText('Hung up.').waitFor({ timeout: 10_000 });
    await eventually(() => {
      expect(
        fake.requests.some((request) => request.path === `/v1/realtime/calls/${id}/hangup`),
      ).toBe(true);
    }, 10_000);
    await page.getByTestId('timeline').getByText('Operator hung up').waitFor({ timeout: 10_000 });
  });

  it('transfers a call to the URI typed, after a confirmation, and OpenAI gets the refer', async () => {
    const id = await ring();
    await page.goto(`${base}/console/calls/${id}`);
    await page
      .getByTestId('timeline')
      .getByText('OpenAI confirmed the accept')
      .waitFor({ timeout: 10_000 });
    await page.getByLabel('Transfer to').fill('tel:+14155550199');
    await page.getByRole('button', { name: 'Transfer…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Transfer this call to tel:+14155550199?' });
    await dialog.getByRole('button', { name: 'Transfer' }).click();
    await page
      .getByTestId('action-result')
      .getByText('Transferred to tel:+14155550199.')
      .waitFor({ timeout: 10_000 });
    await eventually(() => {
      const refer = fake.requests.find(
        (request) => request.path === `/v1/realtime/calls/${id}/refer`,
      );
      expect(refer?.body).toEqual({ target_uri: 'tel:+14155550199' });
    }, 10_000);
    await page
      .getByTestId('timeline')
      .getByText('Operator transferred to tel:+14155550199')
      .waitFor({ timeout: 10_000 });
  });

  it("runs an edited rule's dry run on a recent call, beside what the call did", async () => {
    const id = await ring();
    const { body: record } = await api<CallRecord>('GET', `/calls/${id}`);
    await page.getByRole('link', { name: 'Rules' }).click();
    const editor = page.getByRole('textbox', { name: 'Edit (JSON)' });
    await editor.waitFor({ timeout: 10_000 });
    const document = JSON.parse(await editor.inputValue()) as { rules: unknown[] };
    document.rules.unshift({ id: 'console-busy', action: { reject: { status_code: 486 } } });
    await editor.fill(JSON.stringify(document, null, 2));
    await page.getByTestId('problems').getByText('Valid').waitFor({ timeout: 10_000 });
    await page.getByRole('combobox', { name: 'Call', exact: true }).selectOption(id);
    await page.getByRole('button', { name: 'Run the dry run' }).click();
    await page
      .getByTestId('dry-run-after')
      .getByText('rule console-busy: reject 486')
      .waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('dry-run-before').textContent()).resolves.toBe(
      `rule ${record.decision.rule}: accept`,
    );
    await shoot('rules');
    // Pasted headers: the live rules beside the edited ones.
    await page.getByRole('radio', { name: 'pasted headers' }).check();
    await page.getByRole('button', { name: 'Run the dry run' }).click();
    await page
      .getByTestId('dry-run-after')
      .getByText('rule console-busy: reject 486')
      .waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('dry-run-before').textContent()).resolves.not.toContain(
      'console-busy',
    );
    // Every call of the last hour, as a diff of decisions: all of them would now be rejected.
    const { body: listed } = await api<{ calls: CallRecord[] }>('GET', '/calls?limit=200');
    await page.getByRole('radio', { name: 'every call of the last hour' }).check();
    await page.getByRole('button', { name: 'Run the dry run' }).click();
    const diff = page.getByTestId('hour-diff');
    await diff
      .getByText(
        `${listed.calls.length} of ${listed.calls.length} call(s) of the last hour would be decided differently`,
      )
      .waitFor({ timeout: 10_000 });
    await expect(diff.getByRole('row').count()).resolves.toBe(listed.calls.length + 1);
  });

  it('shows a validation problem at its line as one types', async () => {
    const editor = page.getByRole('textbox', { name: 'Edit (JSON)' });
    const document = JSON.parse(await editor.inputValue()) as { rules: Record<string, unknown>[] };
    document.rules[0] = { id: 'console-busy', action: { reject: { status_code: 486 } }, whne: {} };
    const text = JSON.stringify(document, null, 2);
    await editor.fill(text);
    const line = text.split('\n').findIndex((one) => one.includes('"whne"')) + 1;
    await page.getByTestId('problems').getByText(`line ${line}`).waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('problems').textContent()).resolves.toContain(
      'unknown key "whne"',
    );
  });

  it('does not overwrite an edit saved meanwhile: the save shows the conflict', async () => {
    await page.reload();
    const editor = page.getByRole('textbox', { name: 'Edit (JSON)' });
    await editor.waitFor({ timeout: 10_000 });
    const mine = JSON.parse(await editor.inputValue()) as { rules: unknown[] };
    mine.rules.unshift({ id: 'mine', action: { reject: { status_code: 486 } } });
    await editor.fill(JSON.stringify(mine, null, 2));
    await page.getByTestId('problems').getByText('Valid').waitFor({ timeout: 10_000 });
    // Another operator saves first, on the same version.
    const current = await api<{ document: { rules: unknown[] } }>('GET', '/rules');
    const theirs = current.body.document;
    theirs.rules.unshift({ id: 'theirs', action: { reject: { status_code: 480 } } });
    expect((await api('PUT', '/rules', theirs, { 'If-Match': current.etag! })).status).toBe(200);
    await page.getByRole('button', { name: 'Save…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('conflict').waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('conflict').textContent()).resolves.toContain(
      'Nothing was overwritten',
    );
    const after = await api<{ document: { rules: { id: string }[] } }>('GET', '/rules');
    expect(after.body.document.rules.map((rule) => rule.id)).toContain('theirs');
    expect(after.body.document.rules.map((rule) => rule.id)).not.toContain('mine');
    // Put the rules back as they were for the tests after this one.
    const back = after.body.document.rules.filter((rule) => rule.id !== 'theirs');
    expect(
      (
        await api(
          'PUT',
          '/rules',
          { ...after.body.document, rules: back },
          { 'If-Match': after.etag! },
        )
      ).status,
    ).toBe(200);
  });

  it('lists stored events with their handler runs, and replays one', async () => {
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByLabel('Type').fill('realtime.call.*');
    const link = page.getByRole('link', { name: 'realtime.call.incoming' }).first();
    // The list shown before the filter applies has every type: wait for the filtered one.
    await eventually(async () => {
      expect(await link.count()).toBe(1);
      expect(await page.getByRole('link', { name: 'call.routed' }).count()).toBe(0);
    }, 10_000);
    await link.click();
    // The call handler ran on it: its run is listed with its status.
    const runs = page.getByRole('table', { name: 'Handler runs' });
    await runs.getByText('done').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Replay' }).click();
    await page
      .getByRole('status')
      .getByText(/Replayed to \d+ handler/)
      .waitFor({ timeout: 10_000 });
    await shoot('events');
  });

  it('misses no call across a restart of the service: it catches up with since', async () => {
    await page.getByRole('link', { name: 'Calls' }).click();
    await page.getByTestId('stream-status').getByText('Live').waitFor({ timeout: 10_000 });
    const before = await ring();
    await boardRow(before).waitFor({ timeout: 10_000 });
    service.child.kill('SIGTERM');
    await service.exited;
    await page.getByTestId('stream-status').getByText('Reconnecting').waitFor({ timeout: 10_000 });
    service = await startService(env);
    // Calls that ring while the console is still reconnecting come in its catch-up.
    const during = [await ring(), await ring(), await ring()];
    for (const id of during) await boardRow(id).waitFor({ timeout: 15_000 });
    await page.getByTestId('stream-status').getByText('Live').waitFor({ timeout: 10_000 });
    const after = await ring();
    await boardRow(after).waitFor({ timeout: 10_000 });
    // Every call the service has is on the board, once.
    const { body } = await api<{ calls: CallRecord[] }>('GET', '/calls?limit=200');
    for (const record of body.calls)
      await expect(boardRow(record.call_id).count()).resolves.toBe(1);
  }, 60_000);

  it('stays light with a thousand calls: only the rows in view are in the page', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `rtc_many_${i}`);
    for (let i = 0; i < ids.length; i += 20) {
      const statuses = await Promise.all(
        ids.slice(i, i + 20).map((id) => deliverTo(service.port, ringingCall(id))),
      );
      expect(statuses.every((status) => status === 200)).toBe(true);
    }
    await page.reload();
    await page.getByText(/^1\d{3} calls$/).waitFor({ timeout: 30_000 });
    const rendered = await page.locator('[role=rowgroup].tbody [role=row]').count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(100);
    // Filtering by number narrows the thousand at once, in the page.
    await page.getByLabel('State').selectOption('ringing');
    await page.getByText(/^\d+ of 1\d{3} calls$/).waitFor({ timeout: 10_000 });
  }, 120_000);
});

describe('the call console when a rules file is in charge', () => {
  let dataDir: string;
  let service: ServiceProcess;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-console-file-'));
    const rulesFile = join(dataDir, 'rules.yaml');
    copyFileSync(join(__dirname, '..', 'rules', 'example.yaml'), rulesFile);
    service = await startService({
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      ADMIN_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      RULES_FILE: rulesFile,
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    service?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the rules read-only and says that the file is in charge', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${service.port}/console/rules`);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('read-only-note').waitFor({ timeout: 10_000 });
    await expect(page.getByTestId('read-only-note').textContent()).resolves.toContain(
      'A rules file is in charge',
    );
    const editor = page.getByRole('textbox', { name: 'Rules (read-only)' });
    await expect(editor.getAttribute('readonly')).resolves.not.toBeNull();
    await expect(page.getByRole('button', { name: 'Save…' }).count()).resolves.toBe(0);
  });
});
