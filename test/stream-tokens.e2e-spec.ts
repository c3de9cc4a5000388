import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, startService } from './support/service-process';
import { TEST_SECRET } from './support/signing';
import { TestStreamClient } from './support/stream-client';

const ADMIN_TOKEN = 'admin-token-for-the-read-only-test';
const STREAM_TOKENS = ['dashboard-token-one', 'dashboard-token-two'];
/** Routes that are not the admin API: signed by OpenAI, open, or behind their own token. */
const NOT_ADMIN = ['/webhooks/openai', '/healthz', '/readyz', '/metrics'];

interface Route {
  method: string;
  path: string;
}

describe('STREAM_TOKENS are read-only: they open the stream and nothing of the admin API', () => {
  let dir: string;
  let service: ServiceProcess;
  let base: string;
  let adminRoutes: Route[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-stream-tokens-'));
    service = await startService({
      NODE_ENV: 'test',
      PORT: '0',
      DATA_DIR: dir,
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      ADMIN_TOKEN,
      STREAM_TOKENS: STREAM_TOKENS.join(','),
    });
    base = `http://127.0.0.1:${service.port}`;
    // Every route the service documents, so that a route added later is covered too.
    const document = (await (await fetch(`${base}/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    adminRoutes = Object.entries(document.paths)
      .filter(([path]) => !NOT_ADMIN.includes(path))
      .flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => ({
          method: method.toUpperCase(),
          path: path.replace(/\{[^}]+\}/g, 'rtc_1'),
        })),
      );
  });
  afterAll(async () => {
    service.child.kill('SIGTERM');
    await service.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (route: Route, headers: Record<string, string>, query = '') =>
    fetch(`${base}${route.path}${query}`, {
      method: route.method,
      headers: { 'content-type': 'application/json', 'if-match': '"any"', ...headers },
      body: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
      signal: AbortSignal.timeout(10_000),
    });

  it('covers the whole admin API: events, replay, rules and their edits, calls and their actions', () => {
    expect(adminRoutes).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: '/events' },
        { method: 'POST', path: '/events/rtc_1/replay' },
        { method: 'GET', path: '/rules' },
        { method: 'PUT', path: '/rules' },
        { method: 'POST', path: '/rules/evaluate' },
        { method: 'DELETE', path: '/rules/rtc_1' },
        { method: 'GET', path: '/calls' },
        { method: 'POST', path: '/calls/rtc_1/hangup' },
        { method: 'POST', path: '/calls/rtc_1/refer' },
      ]),
    );
  });

  it('a stream token opens the stream', async () => {
    for (const token of STREAM_TOKENS) {
      const client = await TestStreamClient.connect(`ws://127.0.0.1:${service.port}/events`, token);
      client.close();
    }
  });

  it('a stream token gets 401 on every admin route, as a header or as ?token=', async () => {
    const answers: string[] = [];
    for (const route of adminRoutes) {
      for (const token of STREAM_TOKENS) {
        const byHeader = await send(route, { authorization: `Bearer ${token}` });
        const byQuery = await send(route, {}, `?token=${token}`);
        answers.push(`${route.method} ${route.path}: ${byHeader.status} ${byQuery.status}`);
      }
    }
    expect(answers).toEqual(
      adminRoutes.flatMap((route) =>
        STREAM_TOKENS.map(() => `${route.method} ${route.path}: 401 401`),
      ),
    );
  });

  it('the admin token passes the same routes (so the 401s above are about the token)', async () => {
    const refused: string[] = [];
    for (const route of adminRoutes) {
      const response = await send(route, { authorization: `Bearer ${ADMIN_TOKEN}` });
      if (response.status === 401 || response.status >= 500)
        refused.push(`${route.method} ${route.path}: ${response.status}`);
    }
    expect(refused).toEqual([]);
  });
});
