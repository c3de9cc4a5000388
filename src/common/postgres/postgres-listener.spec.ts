import { types } from 'pg';
import { createTestSchema, describeWithPostgres, TestSchema } from '../../../test/support/postgres';
import { TcpProxy } from '../../../test/support/tcp-proxy';
import { PostgresListener } from './postgres-listener';

/** Polls `check` until it holds: at most 200 tries, 25 ms apart. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
}

describeWithPostgres('PostgresListener', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let listener: PostgresListener | undefined;

  beforeEach(async () => {
    schema = await createTestSchema('listen');
    const target = new URL(schema.url);
    proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).start();
  });
  afterEach(async () => {
    await listener?.close();
    await proxy.stop();
    await schema.drop();
  });

  it('notices a connection that went silent (dropped by a NAT while idle), listens again and says so, so that what was missed is read', async () => {
    const channel = schema.name;
    const heard: (string | undefined)[] = [];
    const changes: boolean[] = [];
    let connected = 0;
    listener = new PostgresListener(
      proxy.url(schema.url),
      channel,
      types,
      (payload) => heard.push(payload),
      () => connected++,
      (up) => changes.push(up),
      100, // heartbeat, ms
    );
    await listener.ready;
    expect(listener.connected).toBe(true);
    await schema.query(`NOTIFY ${channel}, 'one'`);
    await until(() => heard.includes('one'));

    proxy.freeze(); // no FIN, no RST: the connection just carries nothing any more
    await until(() => changes.includes(false));
    expect(listener.connected).toBe(false); // readiness sees it
    await until(() => connected === 2 && listener!.connected); // listening again: caller catches up
    expect(changes).toEqual([false, true]);
    await schema.query(`NOTIFY ${channel}, 'two'`);
    await until(() => heard.includes('two'));
  });
});
