/**
 * What a SQLite error says about the store itself, as opposed to one bad statement (a constraint,
 * a misuse): `corrupt` (the file is damaged: only a restore or a new file helps) or `storage`
 * (the disk is full or failing, the file is read-only or locked: it may pass).
 */
export interface SqliteFailure {
  kind: 'corrupt' | 'storage';
  /** SQLite's message and extended code, e.g. `database or disk is full (SQLITE_FULL)`. */
  text: string;
}

const CORRUPT = /^SQLITE_(CORRUPT|NOTADB)/;
const STORAGE = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|PERM|BUSY|LOCKED|NOMEM|NOLFS|PROTOCOL)/;

export function sqliteFailure(error: unknown): SqliteFailure | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const kind = CORRUPT.test(code) ? 'corrupt' : STORAGE.test(code) ? 'storage' : undefined;
  if (!kind) return undefined;
  return { kind, text: `${(error as Error).message} (${code})` };
}
