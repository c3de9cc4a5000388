import { LoggerService } from '@nestjs/common';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { stringify } from 'yaml';
import { CallsModule } from '../../src/calls/calls.module';
import { SqliteCallStore } from '../../src/calls/store/sqlite-call-store';
import { FakeOpenAI } from './fake-openai';
import { withMeetingPoint } from './meeting-point-store';
import { createTestApp, eventually, TestApp } from './test-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export const HARNESS_TOKEN = 'calls-harness-token';

/**
 * An app with the calls module on files in `dir` (events, calls, rules), call control at the
 * fake, and the admin API on: what the call tests drive and read. Started again on the same
 * `dir`, it finds what the previous one stored, as a restarted service does.
 */
export class CallsHarness {
  t!: TestApp;
  callStore!: ReturnType<typeof withMeetingPoint>;

  constructor(
    private readonly dir: string,
    private readonly fake: FakeOpenAI,
  ) {}

  async start(options: {
    rules: object;
    twinWaitMs?: number;
    apiKey?: string | null;
    logger?: LoggerService;
  }) {
    const rulesFile = join(this.dir, 'rules.yaml');
    writeFileSync(rulesFile, stringify(options.rules));
    this.callStore = withMeetingPoint(new SqliteCallStore(join(this.dir, 'calls.db')));
    this.t = await createTestApp({
      options: { adminToken: HARNESS_TOKEN },
      storeFile: join(this.dir, 'switchboard.db'),
      logger: options.logger,
      imports: [
        CallsModule.forRoot({
          store: this.callStore.store,
          rulesFile,
          twinWaitMs: options.twinWaitMs ?? 5000,
          callControl: {
            apiKey: options.apiKey === null ? undefined : (options.apiKey ?? 'sk-test'),
            baseURL: this.fake.baseURL,
            attemptTimeoutMs: 1000,
            retryBaseMs: 10,
          },
        }),
      ],
    });
    return this.t;
  }

  /** Stops the app as a deploy would, the call store with it: what is on disk stays. */
  async stop() {
    if (!this.t) return;
    await this.t.close();
    await this.callStore.store.close();
    this.t = undefined as unknown as TestApp;
  }

  admin(method: 'get' | 'post', path: string) {
    const server = request(this.t.app.getHttpServer());
    const call = method === 'get' ? server.get(path) : server.post(path);
    return call.set('Authorization', `Bearer ${HARNESS_TOKEN}`);
  }

  /** The call's record once it has this status (found by either of its ids). */
  async recordOf(id: string, status: string): Promise<Json> {
    let record: Json = {};
    await eventually(async () => {
      record = (await this.admin('get', `/calls/${id}`).expect(200)).body as Json;
      expect(record.status).toBe(status);
    }, 10_000);
    return record;
  }

  /** `count` call announcements are stored and the call handler is done with each. */
  async announcementsHandled(count: number) {
    await eventually(async () => {
      const events = await this.t.store.list({ type: '*', limit: 200 });
      const announcements = events.filter((e) => !e.type.startsWith('call.'));
      expect(announcements).toHaveLength(count);
      for (const event of announcements) {
        const runs = (await this.t.store.find(String(event.seq)))!.runs;
        expect(runs.find((run) => run.handler === 'CallsService.onIncomingCall')?.status).toBe(
          'done',
        );
      }
    }, 10_000);
  }
}
