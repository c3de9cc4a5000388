import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliverTo, ringingCall, startService } from './support/service-process';
import { TEST_SECRET } from './support/signing';

/**
 * 5,000 rules, each a number beside a condition they all share (`X-Tier: gold`): the shape of
 * a large DID mapping, and the one that made the unreachable-rule check quadratic.
 */
function largeRuleSet(size: number) {
  return {
    version: 1,
    rules: Array.from({ length: size }, (_, i) => ({
      id: `did-${i}`,
      when: {
        all: [
          { header: 'X-Tier', equals: 'gold' },
          { field: 'called.number', equals: `+1800${String(5550000 + i).padStart(7, '0')}` },
        ],
      },
      action: { reject: { status_code: 486 } },
    })),
  };
}

describe('saving a large rule set while calls ring', () => {
  let dataDir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-rules-load-'));
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers webhook deliveries while 5,000 rules compile, not after', async () => {
    const service = await startService({
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'tok',
    });
    children.push(service.child);
    const base = `http://127.0.0.1:${service.port}`;
    const auth = { Authorization: 'Bearer tok' };
    const etag = (await fetch(`${base}/rules`, { headers: auth })).headers.get('etag')!;
    expect(await deliverTo(service.port, ringingCall('rtc_warm'))).toBe(200);

    const started = performance.now();
    let saved = false;
    const save = fetch(`${base}/rules`, {
      method: 'PUT',
      headers: { ...auth, 'If-Match': etag, 'Content-Type': 'application/json' },
      body: JSON.stringify(largeRuleSet(5000)),
      signal: AbortSignal.timeout(60_000),
    }).then(async (response) => {
      saved = true;
      return {
        status: response.status,
        body: await response.text(),
        ms: performance.now() - started,
      };
    });
    // Calls keep ringing during the save: one delivery after another until it is answered.
    const deliveries: number[] = [];
    while (!saved && deliveries.length < 2000) {
      const sent = performance.now();
      expect(await deliverTo(service.port, ringingCall(`rtc_${deliveries.length}`))).toBe(200);
      if (!saved) deliveries.push(performance.now() - sent);
    }
    const result = await save;
    expect(result.status).toBe(200);
    // Relative, not absolute: the slowest delivery waited for a small part of the save, where
    // a save that held the process made one delivery wait for nearly all of it.
    const slowest = Math.max(...deliveries);
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    expect(slowest).toBeLessThan(result.ms / 4);
  });
});
