import { INestApplication, LoggerService, ModuleMetadata, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { WebhooksModule } from '../../src/webhooks/webhooks.module';
import { WebhooksModuleOptions } from '../../src/webhooks/webhooks.options';
import { SqliteEventStore } from '../../src/webhooks/store/sqlite-event-store';
import { Delivery, TEST_SECRET } from './signing';

export interface TestAppOptions {
  /** Extra modules and providers of the "user's" application. */
  imports?: ModuleMetadata['imports'];
  providers?: Type[];
  options?: Partial<WebhooksModuleOptions>;
  /** `forRootAsync` instead of `forRoot`, to prove both forms behave the same. */
  async?: boolean;
  /** Listen on a loopback port (for WebSocket clients); `port` tells which. */
  listen?: boolean;
  /** A store file instead of an in-memory store (where file locking matters). */
  storeFile?: string;
  /** Set-up that must happen before `init` (routes added later are shadowed by the 404). */
  beforeInit?: (app: INestApplication) => void;
  /** Where the app logs (default: nowhere), for tests that read the log. */
  logger?: LoggerService;
}

export interface TestApp {
  app: INestApplication;
  store: SqliteEventStore;
  port: number;
  deliver(delivery: Delivery): request.Test;
  close(): Promise<void>;
}

/** A user's Nest app embedding `WebhooksModule`, with an in-memory store the test can read. */
export async function createTestApp(config: TestAppOptions = {}): Promise<TestApp> {
  const store = new SqliteEventStore({ filename: config.storeFile ?? ':memory:' });
  const options: WebhooksModuleOptions = {
    secrets: TEST_SECRET,
    store,
    handlerRetryBaseMs: 10,
    ...config.options,
  };
  const webhooks = config.async
    ? WebhooksModule.forRootAsync({ useFactory: async () => options })
    : WebhooksModule.forRoot(options);
  const moduleRef = await Test.createTestingModule({
    imports: [webhooks, ...(config.imports ?? [])],
    providers: config.providers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication({
    bodyParser: false,
    logger: config.logger ?? false,
  });
  config.beforeInit?.(app);
  await app.init();
  let port = 0;
  if (config.listen) {
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
  }
  return {
    app,
    store,
    port,
    deliver: (delivery) =>
      request(app.getHttpServer())
        .post('/webhooks/openai')
        .set(delivery.headers)
        .send(delivery.body),
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

/** Polls until the check passes or the time is up (bounded: tests never spin forever). */
export async function eventually(
  check: () => Promise<void> | void,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
