import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliverTo, ringingCall, ServiceProcess, startService } from './support/service-process';
import { TEST_SECRET } from './support/signing';
import { eventually } from './support/test-app';

const CALLER = '+14155550123';
const CALLED = '+18005550100';

describe('LOG_REDACT_SIP: caller and called numbers in the service log', () => {
  let dir: string;
  let service: ServiceProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-redact-'));
  });
  afterEach(async () => {
    if (service) {
      service.child.kill('SIGTERM');
      await service.exited;
      service = undefined;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** The routing line the service wrote for a ringing call (JSON log lines, as in production). */
  async function routingLine(redact: string): Promise<{ line: string; output: string }> {
    service = await startService({
      NODE_ENV: 'production',
      PORT: '0',
      DATA_DIR: dir,
      OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      LOG_REDACT_SIP: redact,
    });
    expect(await deliverTo(service.port, ringingCall('rtc_redact'))).toBe(200);
    let line = '';
    await eventually(() => {
      line =
        service!
          .output()
          .split('\n')
          .find((l) => l.includes('call rtc_redact from')) ?? '';
      expect(line).not.toBe('');
    }, 10_000);
    return { line, output: service.output() };
  }

  it('=true masks both numbers but their last four digits, in every line', async () => {
    const { line, output } = await routingLine('true');
    // Which example rule matches depends on the time of day; the numbers do not.
    expect(JSON.parse(line).msg).toMatch(/^call rtc_redact from \*{8}0123 to \*{8}0100: \S+ -> /);
    expect(output).not.toContain(CALLER.slice(1, -4));
    expect(output).not.toContain(CALLED.slice(1, -4));
  });

  it('=false (the default) writes them as they are', async () => {
    const { line } = await routingLine('false');
    expect(JSON.parse(line).msg).toContain(`from ${CALLER} to ${CALLED}`);
  });
});
