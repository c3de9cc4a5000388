import { createTestApp, TestApp } from './support/test-app';

const HOUR = 60 * 60 * 1000;
const RETENTION_HOURS = 72;

describe('retention: events older than EVENT_RETENTION_HOURS are forgotten hourly', () => {
  let t: TestApp;
  let clock: number;

  beforeEach(async () => {
    // The hourly timer is fake and the clock injected; the store commits on setImmediate, for real.
    jest.useFakeTimers({
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'queueMicrotask',
        'Date',
        'hrtime',
        'performance',
      ],
    });
    clock = Date.UTC(2026, 10, 23, 8, 0, 0);
    t = await createTestApp({ options: { now: () => clock, retentionHours: RETENTION_HOURS } });
  });
  afterEach(async () => {
    await t.close();
    jest.useRealTimers();
  });

  let counter = 0;
  async function storedAt(receivedAt: number): Promise<string> {
    counter += 1;
    const { event } = await t.store.append(
      {
        webhookId: `wh_retention_${counter}`,
        eventId: `evt_retention_${counter}`,
        type: 'batch.completed',
        source: 'openai',
        payload: JSON.stringify({ id: `evt_retention_${counter}` }),
        receivedAt,
      },
      [],
    );
    return event.eventId;
  }
  const kept = async () => (await t.store.list({ limit: 100 })).map((e) => e.eventId).sort();

  it('on each hourly run, drops what has passed the retention and keeps what has not', async () => {
    const retention = RETENTION_HOURS * HOUR;
    const passesInTheFirstHour = await storedAt(clock - retention + 10 * 60 * 1000);
    const passesInTheSecondHour = await storedAt(clock - retention + 90 * 60 * 1000);
    const fresh = await storedAt(clock - HOUR);
    const all = [passesInTheFirstHour, passesInTheSecondHour, fresh].sort();

    clock += HOUR;
    await jest.advanceTimersByTimeAsync(HOUR - 1);
    expect(await kept()).toEqual(all); // not a moment before the hour

    await jest.advanceTimersByTimeAsync(1);
    expect(await kept()).toEqual([passesInTheSecondHour, fresh].sort());

    clock += HOUR;
    await jest.advanceTimersByTimeAsync(HOUR);
    expect(await kept()).toEqual([fresh]);

    // And again the next hour, and the next: what is within the retention stays.
    clock += HOUR;
    await jest.advanceTimersByTimeAsync(HOUR);
    expect(await kept()).toEqual([fresh]);
  });
});
