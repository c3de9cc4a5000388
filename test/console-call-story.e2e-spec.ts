import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser';
import { FakeOpenAI } from './support/fake-openai';
import { realtimeEvents, type Json } from './support/fake-sideband';
import { deliverTo, ringingCall, ServiceProcess, startService } from './support/service-process';
import { TEST_SECRET } from './support/signing';
import { liveAnnouncement, physicalCall, realtimeAnnouncement } from './support/twin-calls';

const TOKEN = 'console-story-admin-token';
/** `npm run console:screenshots` sets this: the views are saved there as PNG for the README. */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;

/** A rule that keeps the transcript and offers the built-in tools (dist/main.js has no others). */
const STORY_RULE = {
  id: 'story-support',
  priority: 1,
  when: { field: 'called.number', equals: '+18005550100' },
  action: {
    accept: {
      model: 'gpt-realtime',
      instructions: 'You are a support agent.',
      greeting: 'Thank you for calling Example Corp. How can I help?',
      call_tools: ['transfer_call', 'end_call'],
      transcripts: true,
      transfer_targets: ['sip:desk@example.com'],
    },
  },
};

// A call's whole story in the console, as the service records it after the answer: the board
// moves it from ringing to talking to ended from the stream alone, and its timeline shows what
// was said, the tool the model called with its output, the digit keyed, the operator's message
// (which reaches the call's sideband at the fake OpenAI), and how the call ended.
describe('the call console: a call from ring to hang-up, with its sideband', () => {
  let fake: FakeOpenAI;
  let dataDir: string;
  let service: ServiceProcess;
  let browser: Browser;
  let page: Page;
  let base: string;

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
  const shoot = async (name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    fake = await FakeOpenAI.start();
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-console-story-'));
    service = await startService({
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      ADMIN_TOKEN: TOKEN,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
    });
    base = `http://127.0.0.1:${service.port}`;
    const rules = await api<{ document: { rules: unknown[] } }>('GET', '/rules');
    const document = { ...rules.body.document, rules: [STORY_RULE, ...rules.body.document.rules] };
    const saved = await api('PUT', '/rules', document, { 'If-Match': rules.etag! });
    expect(saved).toMatchObject({ status: 200 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/console`);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('stream-status').getByText('Live').waitFor({ timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    service?.child.kill('SIGKILL');
    await fake?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('follows the call live from ringing to talking to ended, and tells its whole story', async () => {
    const id = 'rtc_console_story_1';
    const row = page.locator(`[role=row][data-call-id="${id}"]`);
    // OpenAI holds the accept: the call rings until it is let go.
    let letAcceptGo!: () => void;
    fake.reply({ status: 200, until: new Promise<void>((resolve) => (letAcceptGo = resolve)) });
    expect(await deliverTo(service.port, ringingCall(id))).toBe(200);
    await row.locator('.pill', { hasText: 'ringing' }).waitFor({ timeout: 10_000 });
    letAcceptGo();
    await row.locator('.pill', { hasText: 'talking' }).waitFor({ timeout: 10_000 });

    // The service opened the call's sideband and greeted the caller.
    const sideband = await fake.sidebands.connection(id, 1, 10_000);
    await sideband.waitFor((event) => event.type === 'response.create', 10_000);

    await row.getByRole('link').click();
    const timeline = page.getByTestId('timeline');
    await timeline.getByText('Answered').waitFor({ timeout: 10_000 });

    // The model's side, as OpenAI sends it: the caller speaks, the model calls a tool (to a
    // target the rule does not allow: the call goes on), the agent answers, the caller keys 5.
    sideband.send(realtimeEvents.callerSaid('Can I speak to sales?'));
    sideband.send(
      realtimeEvents.functionCall('fc_story_1', 'transfer_call', {
        target: 'sip:sales@example.com',
      }),
    );
    const output = await sideband.waitFor(
      (event) =>
        event.type === 'conversation.item.create' && event.item?.type === 'function_call_output',
      10_000,
    );
    sideband.send(realtimeEvents.agentSaid('Sales is not reachable from here, sorry.'));
    sideband.send(realtimeEvents.dtmf('5'));

    // Live: each line comes in from the stream while the call's view is open.
    await timeline.getByText('Caller: Can I speak to sales?').waitFor({ timeout: 10_000 });
    await timeline
      .getByText('Agent: Sales is not reachable from here, sorry.')
      .waitFor({ timeout: 10_000 });
    const tool = timeline.locator('li.kind-tool');
    await tool.getByText(/Tool transfer_call: /).waitFor({ timeout: 10_000 });
    await tool
      .getByText(`output ${(output.item as Json).output as string}`)
      .waitFor({ timeout: 10_000 });
    await expect(tool.textContent()).resolves.toContain(
      'arguments {"target":"sip:sales@example.com"}',
    );
    await timeline.getByText('DTMF 5').waitFor({ timeout: 10_000 });

    // The operator's message: confirmed, into the call's sideband, and in the timeline.
    const text = 'Offer the caller the sales desk number.';
    await page.getByLabel('Message to the agent').fill(text);
    await page.getByRole('button', { name: 'Send…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send this message to the agent?' });
    await dialog.getByText(`“${text}”`).waitFor();
    await dialog.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('action-result').getByText('Message sent.').waitFor({ timeout: 10_000 });
    const said = await sideband.waitFor(
      (event) =>
        event.type === 'conversation.item.create' &&
        event.item?.type === 'message' &&
        event.item?.role === 'system',
      10_000,
    );
    expect(said.item.content).toEqual([{ type: 'input_text', text }]);
    await timeline.getByText(`Operator sent a message: “${text}”`).waitFor({ timeout: 10_000 });
    await timeline.getByText(`Operator: ${text}`).waitFor({ timeout: 10_000 });

    // The caller hangs up: the sideband closes, the call is over.
    fake.sidebands.hangUp(id);
    await timeline.getByText('Ended: caller hung up (inferred)').waitFor({ timeout: 15_000 });
    await page.locator('.story .pill', { hasText: 'ended' }).waitFor({ timeout: 10_000 });

    // The record says what the console shows.
    const { body: record } = await api<Json>('GET', `/calls/${id}`);
    expect(record.ended).toMatchObject({ reason: 'caller_hung_up', inferred: true });
    expect(record.tool_calls).toEqual([
      expect.objectContaining({ tool_call_id: 'fc_story_1', name: 'transfer_call' }),
    ]);
    await expect(tool.textContent()).resolves.toContain(
      `Tool transfer_call: ${(record.tool_calls[0].outcome as string).replace('_', ' ')}`,
    );
    // The duration stops at the end: the story shows the recorded one, not a running clock.
    const lasted = Math.round((record.ended.duration_ms as number) / 1000);
    await timeline.getByText(`lasted ${lasted} s`).waitFor({ timeout: 10_000 });
    await shoot('call-story');

    // Back on the board (no reload): the call is listed as ended.
    await page.getByRole('link', { name: 'Calls' }).first().click();
    await row.locator('.pill', { hasText: 'ended' }).waitFor({ timeout: 10_000 });
    // Its clock stopped at the end: from the ring to `ended.at`, however late it is read.
    const rangToEnd =
      Date.parse(record.ended.at as string) - Date.parse(record.timings.received_at as string);
    const seconds = Math.floor(rangToEnd / 1000);
    const clock = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
    await expect(row.locator('[role=cell].num').first().textContent()).resolves.toBe(clock);
  }, 90_000);

  it('shows both ids of a call announced on both surfaces, and which one answered', async () => {
    const call = physicalCall();
    fake.calls.offer({ realtime: call.realtimeId, live: call.liveId });
    expect(await deliverTo(service.port, realtimeAnnouncement(call))).toBe(200);
    expect(await deliverTo(service.port, liveAnnouncement(call))).toBe(200);
    await page.goto(`${base}/console/calls/${call.liveId}`);
    const timeline = page.getByTestId('timeline');
    await timeline.getByText('Answered').waitFor({ timeout: 10_000 });
    const { body: record } = await api<Json>('GET', `/calls/${call.realtimeId}`);
    const answeredOn = record.surface as 'realtime' | 'live';
    const other = answeredOn === 'realtime' ? 'live' : 'realtime';
    const ids = { realtime: call.realtimeId, live: call.liveId };
    const twins = page.getByTestId('call-twins');
    await twins
      .getByText(`${answeredOn} ${ids[answeredOn]} (answered)`)
      .waitFor({ timeout: 10_000 });
    await expect(
      twins
        .getByRole('listitem')
        .nth(answeredOn === 'realtime' ? 1 : 0)
        .textContent(),
    ).resolves.toBe(`${other} ${ids[other]}`);
    await timeline.getByText(`Announced on realtime as ${call.realtimeId}`).waitFor();
    await timeline.getByText(`Announced on live as ${call.liveId}`).waitFor();
  }, 60_000);
});
