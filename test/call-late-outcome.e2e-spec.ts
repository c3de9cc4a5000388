import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallsService } from '../src/calls/calls.service';
import type { CallAnnouncementEvent } from '../src/calls/surfaces/call-offer';
import { CallsHarness } from './support/calls-harness';
import { CollectingLogger } from './support/collecting-logger';
import { FakeOpenAI } from './support/fake-openai';
import { sampleEvent } from './support/sample-events';
import { signDelivery } from './support/signing';
import { eventually } from './support/test-app';

const RULES = {
  version: 1,
  rules: [{ id: 'support', action: { accept: { model: 'gpt-realtime' } } }],
};

/**
 * Several instances: the instance sending a call's accept lets its handler-run lease lapse
 * mid-send; another takes the run over, finds the record `acting` and settles it failed
 * ("outcome unknown, not resent"). OpenAI's answer to the first sender then arrives.
 */
describe('a call settled as "outcome unknown" by another instance, whose first sender then hears back', () => {
  let fake: FakeOpenAI;
  let dir: string;
  let app: CallsHarness;

  beforeEach(async () => {
    fake = await FakeOpenAI.start();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-late-'));
    app = new CallsHarness(dir, fake);
  });
  afterEach(async () => {
    await app.stop();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the settlement and its one event; the real answer is kept as late_outcome and said in one line', async () => {
    const logger = new CollectingLogger();
    const t = await app.start({ rules: RULES, twinWaitMs: 0, logger });
    let answer!: () => void;
    fake.reply({ status: 200, until: new Promise<void>((resolve) => (answer = resolve)) });
    const callId = 'rtc_lease_lapsed';
    const event = sampleEvent('realtime.call.incoming', {
      data: {
        call_id: callId,
        sip_headers: [
          { name: 'From', value: '<sip:1@x>' },
          { name: 'To', value: '<sip:+18005550100@y>' },
        ],
      },
    });
    const delivery = signDelivery(JSON.stringify(event));
    const delivered = await t.deliver(delivery);
    expect(delivered.status).toBe(200);
    await fake.waitForRequests(1); // the accept is out, unanswered
    await app.recordOf(callId, 'acting');

    // The survivor's takeover of the same handler run (same event, same seq).
    await t.app.get(CallsService).onIncomingCall(event as unknown as CallAnnouncementEvent, {
      seq: delivered.body.seq as number,
      webhookId: delivery.headers['webhook-id'],
      source: 'openai',
      attempt: 2,
      receivedAt: Date.now(),
    });
    expect((await app.recordOf(callId, 'failed')).openai.error).toMatch(/outcome unknown/);

    answer(); // OpenAI accepted it after all
    let record = await app.recordOf(callId, 'failed');
    await eventually(async () => {
      record = await app.recordOf(callId, 'failed');
      expect(record.late_outcome).toBeDefined();
    });
    expect(record.openai.error).toMatch(/outcome unknown, not resent/);
    expect(record.late_outcome).toMatchObject({
      status: 'completed',
      outcome: { ok: true, status: 200, attempts: 1 },
    });
    // Listeners heard one thing about the decision: that it failed.
    const types = (await t.store.list({ type: '*', limit: 50 }))
      .map((stored) => stored.type)
      .filter((type) => type !== 'call.routed' && type.startsWith('call.'));
    expect(types).toEqual(['call.action_failed']);
    // Said once the record has it (the line names how the call was settled, read after).
    await eventually(() =>
      expect(logger.find('warn', `call ${callId}: its accept succeeded`)).toHaveLength(1),
    );
    expect(fake.requests).toHaveLength(1); // and nothing was sent again
  });
});
