import { Module } from '@nestjs/common';
import { CallsModule } from '../src/calls/calls.module';
import { SqliteCallStore } from '../src/calls/store/sqlite-call-store';
import { EventStreamModule } from '../src/stream/event-stream.module';
import { TestStreamClient } from './support/stream-client';
import { createTestApp, eventually, TestApp } from './support/test-app';
import { liveAnnouncement, physicalCall, realtimeAnnouncement } from './support/twin-calls';

const ADMIN = 'twins-stream-token';

describe('the event stream follows a call by either of its ids', () => {
  let t: TestApp;
  let client: TestStreamClient | undefined;

  beforeEach(async () => {
    @Module({
      imports: [
        EventStreamModule.forRoot({ adminToken: ADMIN }),
        // Dry run: decided and recorded, nothing sent; the rules are the built-in default.
        CallsModule.forRoot({ store: new SqliteCallStore(':memory:'), twinWaitMs: 0 }),
      ],
    })
    class StreamAndCalls {}
    t = await createTestApp({ imports: [StreamAndCalls], listen: true });
  });
  afterEach(async () => {
    client?.close();
    await t.close();
  });

  it('a Live announcement matches call_ids by its session_id; with both ids, every event of the call', async () => {
    const call = physicalCall();
    const other = physicalCall();
    client = await TestStreamClient.connect(`ws://127.0.0.1:${t.port}/events`, ADMIN);
    client.send({ op: 'subscribe', types: ['*'], call_ids: [call.liveId] });
    await eventually(() => expect(client!.messages.some((m) => m.type === 'caught_up')).toBe(true));

    await t.deliver(liveAnnouncement(other)).expect(200);
    await t.deliver(liveAnnouncement(call)).expect(200);
    await eventually(() => expect(client!.events().length).toBeGreaterThanOrEqual(3));
    await client.roundTrip();
    // The call's first announcement names it: its Live session id here.
    expect(
      client
        .events()
        .map((m) => [m.event!.type, m.event!.data.session_id ?? m.event!.data.call_id]),
    ).toEqual([
      ['live.transport.incoming', call.liveId],
      ['call.routed', call.liveId],
      ['call.rejected', call.liveId],
    ]);

    client.send({ op: 'subscribe', call_ids: [call.realtimeId] });
    await t.deliver(realtimeAnnouncement(call)).expect(200);
    await eventually(() =>
      expect(client!.events().map((m) => m.event!.type)).toContain('realtime.call.incoming'),
    );
  });
});
