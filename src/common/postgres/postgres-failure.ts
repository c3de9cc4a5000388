import { StoreUnavailableError } from '../store/store-health';

/**
 * SQLSTATE classes that are the database's or the connection's fault, not one statement's:
 * 08 connection exception, 53 insufficient resources (disk full, too many connections),
 * 57 operator intervention (shutdown, cancel), 58 system error, XX internal error.
 */
const STORE_FAULT_CLASSES = new Set(['08', '53', '57', '58', 'XX']);

/** A statement's own failure (a constraint, a bad value) carries a five-character SQLSTATE. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Whether an error means the store cannot serve now (the server is unreachable, the connection
 * dropped, the disk is full), as opposed to one statement's fault. Errors without a SQLSTATE
 * come from the driver or the socket: a refused or reset connection, a timeout, a closed pool.
 */
export function isStoreFault(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const state = sqlState(error);
  return state === undefined || STORE_FAULT_CLASSES.has(state.slice(0, 2));
}

/** The cause in a few words, without the host or the credentials of the connection. */
export function describePostgresFault(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' && message ? message : String(error);
  // A socket error's message names the address ("connect ECONNREFUSED 10.0.0.5:5432"): keep
  // its code only, so that answers carry no configuration.
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  return typeof code === 'string' ? `${text} (${code})` : text;
}

/**
 * What an operation of the store throws: `StoreUnavailableError` (answered 503) for a fault of
 * the store, the error itself for one statement's fault.
 */
export function storeError(name: string, error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  if (!isStoreFault(error)) return error;
  return new StoreUnavailableError(
    `the ${name} cannot reach PostgreSQL: ${describePostgresFault(error)}`,
  );
}
