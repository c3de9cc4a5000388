import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The development signing secret, beside the store, so that `npm run demo` can sign with it. */
export const DEV_SECRET_FILE = 'dev-webhook-secret';
/** The development admin token, beside the store, so that `npm run tail` and the demo can use it. */
export const DEV_ADMIN_TOKEN_FILE = 'dev-admin-token';

/** Whether a development value was made at this start or read from an earlier one. */
export type DevelopmentValueSource = 'generated' | 'reused';

export interface DevelopmentValue {
  value: string;
  source: DevelopmentValueSource;
  file: string;
}

/**
 * A value kept in `dataDir` across restarts in development: read when an earlier start saved
 * it, else generated and saved (readable by the owner only).
 */
export function developmentValue(
  dataDir: string,
  name: string,
  generate: () => string,
): DevelopmentValue {
  const file = join(dataDir, name);
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return { value: kept, source: 'reused', file };
  }
  const value = generate();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, source: 'generated', file };
}

export const generateWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
export const generateAdminToken = () => `sbdev_${randomBytes(24).toString('base64url')}`;
