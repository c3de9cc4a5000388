import { StoredEvent } from '../event-store';
import { SeqOrderedFeed } from './seq-ordered-feed';

const event = (seq: number): StoredEvent => ({
  seq,
  webhookId: `wh_${seq}`,
  eventId: `evt_${seq}`,
  type: 'batch.completed',
  source: 'openai',
  payload: '{}',
  receivedAt: seq,
});

describe('SeqOrderedFeed', () => {
  it("does not read for a notification of what it announced already (its own commit's NOTIFY), and reads for a newer one", async () => {
    const stored = [event(1), event(2), event(3)];
    const reads: number[] = [];
    const feed = new SeqOrderedFeed(async (after) => {
      reads.push(after);
      return stored.filter((e) => e.seq > after);
    }, 0);
    const heard: number[] = [];
    feed.subscribe((e) => heard.push(e.seq));

    await feed.committed([event(1), event(2)]); // this instance's commit: announced at once
    feed.wake(2); // and its NOTIFY, heard back
    feed.wake(1);
    expect(reads).toEqual([]);

    feed.wake(3); // another instance's commit
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toEqual([2]);
    expect(heard).toEqual([1, 2, 3]);
    feed.stop();
  });
});
