import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_ADMIN_TOKEN_FILE, DEV_SECRET_FILE, loadConfig } from './switchboard.config';

const SECRET = `whsec_${Buffer.from('a-real-looking-signing-secret').toString('base64')}`;

describe('loadConfig', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('applies the documented defaults', () => {
    const config = loadConfig({ OPENAI_WEBHOOK_SECRET: SECRET, DATA_DIR: dataDir });
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      dataDir,
      webhookSecrets: [SECRET],
      webhookSecretSource: 'env',
      maxBodyBytes: 1024 * 1024,
      bodyTimeoutMs: 10_000,
      headersTimeoutMs: 10_000,
      retentionHours: 168,
      toleranceSeconds: 300,
      synchronous: 'full',
    });
    expect(config.openaiApiKey).toBeUndefined();
  });

  it('splits a rotation list', () => {
    const other = `whsec_${Buffer.from('the-next-signing-secret!').toString('base64')}`;
    expect(
      loadConfig({ OPENAI_WEBHOOK_SECRET: `${SECRET}, ${other}`, DATA_DIR: dataDir })
        .webhookSecrets,
    ).toEqual([SECRET, other]);
  });

  it('generates and keeps a development secret when none is set, and says which happened', () => {
    const first = loadConfig({ DATA_DIR: dataDir });
    expect(first.webhookSecretSource).toBe('generated');
    expect(readFileSync(join(dataDir, DEV_SECRET_FILE), 'utf8').trim()).toBe(
      first.webhookSecrets[0],
    );
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(second.webhookSecrets).toEqual(first.webhookSecrets);
    expect(second.webhookSecretSource).toBe('reused');
  });

  it('generates and keeps a development admin token when none is set, and says which happened', () => {
    const first = loadConfig({ OPENAI_WEBHOOK_SECRET: SECRET, DATA_DIR: dataDir });
    expect(first.adminTokenSource).toBe('generated');
    expect(first.adminToken).toMatch(/^sbdev_[\w-]{32}$/);
    expect(readFileSync(join(dataDir, DEV_ADMIN_TOKEN_FILE), 'utf8').trim()).toBe(first.adminToken);
    const second = loadConfig({ OPENAI_WEBHOOK_SECRET: SECRET, DATA_DIR: dataDir });
    expect(second).toMatchObject({ adminToken: first.adminToken, adminTokenSource: 'reused' });
  });

  it('takes ADMIN_TOKEN from the environment, and generates none outside development', () => {
    expect(
      loadConfig({ OPENAI_WEBHOOK_SECRET: SECRET, DATA_DIR: dataDir, ADMIN_TOKEN: 'mine' }),
    ).toMatchObject({ adminToken: 'mine', adminTokenSource: 'env' });
    for (const NODE_ENV of ['production', 'test']) {
      const config = loadConfig({ OPENAI_WEBHOOK_SECRET: SECRET, DATA_DIR: dataDir, NODE_ENV });
      expect(config.adminToken).toBeUndefined();
    }
    expect(existsSync(join(dataDir, DEV_ADMIN_TOKEN_FILE))).toBe(false);
  });

  it('never generates one in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir })).toThrow(
      'OPENAI_WEBHOOK_SECRET is missing',
    );
    expect(existsSync(join(dataDir, DEV_SECRET_FILE))).toBe(false);
  });

  it.each([
    ['PORT', '70000', 'PORT must be between 0 and 65535'],
    ['PORT', 'http', 'PORT must be a whole number'],
    ['EVENT_RETENTION_HOURS', '24', 'EVENT_RETENTION_HOURS must be between 72'],
    ['STORE_SYNCHRONOUS', 'off', 'STORE_SYNCHRONOUS must be one of normal, full'],
    ['OPENAI_BASE_URL', 'ftp://example.com', 'OPENAI_BASE_URL must be an http(s) URL'],
    ['BODY_TIMEOUT_MS', '50', 'BODY_TIMEOUT_MS must be between 100 and 600000, got 50'],
    ['HEADERS_TIMEOUT_MS', '10s', 'HEADERS_TIMEOUT_MS must be a whole number, got "10s"'],
  ])('refuses %s=%s', (name, value, message) => {
    expect(() =>
      loadConfig({ OPENAI_WEBHOOK_SECRET: SECRET, DATA_DIR: dataDir, [name]: value }),
    ).toThrow(message);
  });

  it('reads the stream heartbeat, 30 s unless STREAM_HEARTBEAT_MS says otherwise', () => {
    const env = { OPENAI_WEBHOOK_SECRET: SECRET, DATA_DIR: dataDir };
    expect(loadConfig(env).streamHeartbeatMs).toBe(30_000);
    expect(loadConfig({ ...env, STREAM_HEARTBEAT_MS: '5000' }).streamHeartbeatMs).toBe(5000);
    expect(() => loadConfig({ ...env, STREAM_HEARTBEAT_MS: '999' })).toThrow(
      'STREAM_HEARTBEAT_MS must be between 1000 and 3600000, got 999',
    );
    expect(() => loadConfig({ ...env, STREAM_HEARTBEAT_MS: '30s' })).toThrow(
      'STREAM_HEARTBEAT_MS must be a whole number, got "30s"',
    );
  });

  it('reads how long a call tool may run, 10,000 ms unless CALL_TOOL_TIMEOUT_MS says otherwise', () => {
    const env = { NODE_ENV: 'production', OPENAI_WEBHOOK_SECRET: SECRET };
    expect(loadConfig(env).callToolTimeoutMs).toBe(10_000);
    expect(loadConfig({ ...env, CALL_TOOL_TIMEOUT_MS: '2500' }).callToolTimeoutMs).toBe(2500);
    expect(() => loadConfig({ ...env, CALL_TOOL_TIMEOUT_MS: '0' })).toThrow(
      'CALL_TOOL_TIMEOUT_MS must be between 1 and 600000, got 0',
    );
  });

  it('reads how long a decision waits for its twin, 300 ms unless TWIN_WAIT_MS says otherwise', () => {
    const env = { OPENAI_WEBHOOK_SECRET: SECRET, DATA_DIR: dataDir };
    expect(loadConfig(env).twinWaitMs).toBe(300);
    expect(loadConfig({ ...env, TWIN_WAIT_MS: '0' }).twinWaitMs).toBe(0);
    expect(loadConfig({ ...env, TWIN_WAIT_MS: '5000' }).twinWaitMs).toBe(5000);
    expect(() => loadConfig({ ...env, TWIN_WAIT_MS: '5001' })).toThrow(
      'TWIN_WAIT_MS must be between 0 and 5000, got 5001',
    );
  });

  it('reads how long sidebands are held unrenewed, 10 s unless SIDEBAND_LEASE_MS says otherwise', () => {
    const env = { OPENAI_WEBHOOK_SECRET: SECRET, DATA_DIR: dataDir };
    expect(loadConfig(env).sidebandLeaseMs).toBe(10_000);
    expect(loadConfig({ ...env, SIDEBAND_LEASE_MS: '1000' }).sidebandLeaseMs).toBe(1000);
    expect(() => loadConfig({ ...env, SIDEBAND_LEASE_MS: '100' })).toThrow(
      'SIDEBAND_LEASE_MS must be between 300 and 600000, got 100',
    );
  });
});
