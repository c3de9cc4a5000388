import pino from 'pino';
import { join, resolve } from 'node:path';
import { decodeWebhookSecrets } from '../webhooks/signature/webhook-secret';
import { MIN_RETENTION_HOURS } from '../webhooks/webhooks.options';
import { SqliteSynchronous } from '../webhooks/store/sqlite-event-store';
import { STREAM_DEFAULTS } from '../stream/event-stream.options';
import { DEFAULT_TWIN_WAIT_MS, MAX_TWIN_WAIT_MS } from '../calls/twins/twin-wait';
import {
  MAX_SIDEBAND_CALLS,
  MAX_SIDEBAND_LEASE_MS,
  MIN_SIDEBAND_LEASE_MS,
  SIDEBAND_DEFAULTS,
} from '../calls/sideband/sideband.options';
import { DEFAULT_TOOL_TIMEOUT_MS } from '../calls/tools/tool-timeout';
import {
  DEV_ADMIN_TOKEN_FILE,
  DEV_SECRET_FILE,
  developmentValue,
  DevelopmentValueSource,
  generateAdminToken,
  generateWebhookSecret,
} from './development-values';

export { DEV_ADMIN_TOKEN_FILE, DEV_SECRET_FILE } from './development-values';

export type NodeEnv = 'development' | 'production' | 'test';

/** Everything the service reads from its environment, read once and checked at start-up. */
export interface SwitchboardConfig {
  nodeEnv: NodeEnv;
  port: number;
  /** Interface to listen on. */
  host: string;
  dataDir: string;
  /** PostgreSQL shared by several instances; unset: the embedded SQLite stores under dataDir. */
  databaseUrl?: string;
  /** With databaseUrl: how long a handler run stays with an instance without renewal. */
  runLeaseMs: number;
  webhookSecrets: string[];
  /** Where the secret came from: the environment, or (development) generated now or reused. */
  webhookSecretSource: 'env' | DevelopmentValueSource;
  adminToken?: string;
  /** Where the admin token came from; in development one is generated when none is set. */
  adminTokenSource?: 'env' | DevelopmentValueSource;
  /** Read-only tokens for the event stream. */
  streamTokens: string[];
  /** Event stream ping interval; a client that misses a ping is dropped at the next one. */
  streamHeartbeatMs: number;
  openaiApiKey?: string;
  openaiBaseUrl?: string;
  rulesFile?: string;
  /** How long a decision waits for the announcement of the surface it prefers (the twin). */
  twinWaitMs: number;
  /** Sidebands (the call after it is answered) open at once on this instance. */
  sidebandMaxCalls: number;
  /** How long an instance holds its sidebands without renewal before another adopts them. */
  sidebandLeaseMs: number;
  /** How long a `@CallTool` handler may run before the model is told it timed out. */
  callToolTimeoutMs: number;
  maxBodyBytes: number;
  /** A request body not arrived whole this long after its headers is refused with 408. */
  bodyTimeoutMs: number;
  /** Request headers not arrived whole this long after the request began: 408 (slowloris). */
  headersTimeoutMs: number;
  retentionHours: number;
  toleranceSeconds: number;
  synchronous: SqliteSynchronous;
  logLevel: LogLevel;
  /** Extra pino redaction paths. */
  logRedact: string[];
  /** Mask caller and called numbers in log lines (they are personal data). */
  logRedactSip: boolean;
  metricsToken?: string;
  /** After the first SIGTERM, exit anyway once this much time has passed. */
  shutdownTimeoutMs: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A bad or missing variable; the message names it and says what is wrong. */
export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv): SwitchboardConfig {
  const nodeEnv = oneOf(
    'NODE_ENV',
    env.NODE_ENV,
    ['development', 'production', 'test'] as const,
    'development',
  );
  const dataDir = resolve(nonEmpty(env.DATA_DIR) ?? './data');
  const { secrets, source } = webhookSecrets(env.OPENAI_WEBHOOK_SECRET, nodeEnv, dataDir);
  const admin = adminToken(env.ADMIN_TOKEN, nodeEnv, dataDir);
  return {
    nodeEnv,
    port: integer('PORT', env.PORT, 3000, 0, 65535),
    host: nonEmpty(env.HOST) ?? '0.0.0.0',
    dataDir,
    databaseUrl: databaseUrl(env.DATABASE_URL),
    runLeaseMs: integer('HANDLER_LEASE_MS', env.HANDLER_LEASE_MS, 30_000, 1000, 3_600_000),
    webhookSecrets: secrets,
    webhookSecretSource: source,
    adminToken: admin?.token,
    adminTokenSource: admin?.source,
    streamTokens: list(env.STREAM_TOKENS),
    streamHeartbeatMs: integer(
      'STREAM_HEARTBEAT_MS',
      env.STREAM_HEARTBEAT_MS,
      STREAM_DEFAULTS.heartbeatMs,
      1000,
      3_600_000,
    ),
    openaiApiKey: nonEmpty(env.OPENAI_API_KEY),
    openaiBaseUrl: url('OPENAI_BASE_URL', env.OPENAI_BASE_URL),
    rulesFile: nonEmpty(env.RULES_FILE),
    twinWaitMs: integer(
      'TWIN_WAIT_MS',
      env.TWIN_WAIT_MS,
      DEFAULT_TWIN_WAIT_MS,
      0,
      MAX_TWIN_WAIT_MS,
    ),
    sidebandMaxCalls: integer(
      'SIDEBAND_MAX_CALLS',
      env.SIDEBAND_MAX_CALLS,
      SIDEBAND_DEFAULTS.maxCalls,
      0,
      MAX_SIDEBAND_CALLS,
    ),
    sidebandLeaseMs: integer(
      'SIDEBAND_LEASE_MS',
      env.SIDEBAND_LEASE_MS,
      SIDEBAND_DEFAULTS.leaseMs,
      MIN_SIDEBAND_LEASE_MS,
      MAX_SIDEBAND_LEASE_MS,
    ),
    callToolTimeoutMs: integer(
      'CALL_TOOL_TIMEOUT_MS',
      env.CALL_TOOL_TIMEOUT_MS,
      DEFAULT_TOOL_TIMEOUT_MS,
      1,
      600_000,
    ),
    maxBodyBytes: integer('MAX_BODY_BYTES', env.MAX_BODY_BYTES, 1024 * 1024, 1, 64 * 1024 * 1024),
    bodyTimeoutMs: integer('BODY_TIMEOUT_MS', env.BODY_TIMEOUT_MS, 10_000, 100, 600_000),
    headersTimeoutMs: integer('HEADERS_TIMEOUT_MS', env.HEADERS_TIMEOUT_MS, 10_000, 100, 600_000),
    retentionHours: integer(
      'EVENT_RETENTION_HOURS',
      env.EVENT_RETENTION_HOURS,
      168,
      MIN_RETENTION_HOURS,
      24 * 365 * 10,
    ),
    toleranceSeconds: integer(
      'WEBHOOK_TOLERANCE_SECONDS',
      env.WEBHOOK_TOLERANCE_SECONDS,
      300,
      1,
      3600,
    ),
    synchronous: oneOf(
      'STORE_SYNCHRONOUS',
      env.STORE_SYNCHRONOUS,
      ['normal', 'full'] as const,
      'full',
    ),
    logLevel: oneOf('LOG_LEVEL', env.LOG_LEVEL, LOG_LEVELS, 'info'),
    logRedact: redactPaths(env.LOG_REDACT),
    logRedactSip:
      oneOf('LOG_REDACT_SIP', env.LOG_REDACT_SIP, ['true', 'false'] as const, 'false') === 'true',
    metricsToken: nonEmpty(env.METRICS_TOKEN),
    shutdownTimeoutMs: integer(
      'SHUTDOWN_TIMEOUT_MS',
      env.SHUTDOWN_TIMEOUT_MS,
      15_000,
      1000,
      600_000,
    ),
  };
}

function webhookSecrets(
  value: string | undefined,
  nodeEnv: NodeEnv,
  dataDir: string,
): { secrets: string[]; source: 'env' | DevelopmentValueSource } {
  const given = nonEmpty(value);
  if (given) {
    try {
      decodeWebhookSecrets(given);
    } catch (error) {
      throw new ConfigError(`OPENAI_WEBHOOK_SECRET is not usable: ${(error as Error).message}`);
    }
    return {
      secrets: given
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      source: 'env',
    };
  }
  if (nodeEnv === 'production') {
    throw new ConfigError(
      'OPENAI_WEBHOOK_SECRET is missing: set it to the signing secret (whsec_...) of your OpenAI webhook endpoint',
    );
  }
  const kept = keptInDataDir(dataDir, DEV_SECRET_FILE, generateWebhookSecret);
  return { secrets: [kept.value], source: kept.source };
}

/**
 * In development the admin API and the stream are on from the first start, so that a newcomer
 * sees calls and events at once; elsewhere they stay off until ADMIN_TOKEN is set.
 */
function adminToken(
  value: string | undefined,
  nodeEnv: NodeEnv,
  dataDir: string,
): { token: string; source: 'env' | DevelopmentValueSource } | undefined {
  const given = nonEmpty(value);
  if (given) return { token: given, source: 'env' };
  if (nodeEnv !== 'development') return undefined;
  const kept = keptInDataDir(dataDir, DEV_ADMIN_TOKEN_FILE, generateAdminToken);
  return { token: kept.value, source: kept.source };
}

/** pino's own parser says whether each path is one it can redact. */
function redactPaths(value: string | undefined): string[] {
  const paths = list(value);
  try {
    pino({ redact: paths }, { write: () => undefined });
  } catch (error) {
    throw new ConfigError(
      `LOG_REDACT holds a path pino cannot redact: ${(error as Error).message}`,
    );
  }
  return paths;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function integer(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = nonEmpty(value);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new ConfigError(`${name} must be a whole number, got "${text}"`);
  const parsed = Number(text);
  if (parsed < min || parsed > max)
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${parsed}`);
  return parsed;
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  const text = nonEmpty(value);
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${text}"`);
  }
  return text as T;
}

function url(name: string, value: string | undefined): string | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  try {
    const parsed = new URL(text);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
    return text;
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${text}"`);
  }
}

/** A postgres:// URL; the message never repeats it (it may hold a password). */
function databaseUrl(value: string | undefined): string | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError(
      'DATABASE_URL is not a URL: expected postgres://user:password@host:5432/database',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(
      `DATABASE_URL must be a postgres:// URL (got ${parsed.protocol}//...): PostgreSQL is the one shared store`,
    );
  }
  return text;
}

/** A development value kept in DATA_DIR; a read-only or uncreatable DATA_DIR is one line, not a stack. */
function keptInDataDir(dataDir: string, name: string, generate: () => string) {
  try {
    return developmentValue(dataDir, name, generate);
  } catch (error) {
    throw new ConfigError(
      `DATA_DIR ${dataDir} is not usable: cannot keep the development value in ${join(dataDir, name)}: ${(error as Error).message}`,
    );
  }
}
