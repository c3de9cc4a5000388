import { RulesValidationError } from '../calls/rules/rule-set.compiler';
import { RulesFileError } from '../calls/rules/rules-file';
import { StoreOpenError } from '../common/sqlite/open-sqlite-store';
import { StoreUnavailableError } from '../common/store/store-health';
import { ConfigError } from './switchboard.config';

/** Where the service was asked to listen, for messages about listening. */
export interface ListenTarget {
  host: string;
  port: number;
}

/**
 * Every way the start can fail, as one line that names the cause and the file, host or port it
 * concerns: what an operator reads in a crash-looping container's log. Never a stack.
 */
export function describeStartUpFailure(error: unknown, target?: ListenTarget): string {
  if (error instanceof ConfigError || error instanceof StoreOpenError)
    return oneLine(error.message);
  if (error instanceof RulesFileError || error instanceof RulesValidationError) {
    return oneLine(`the routing rules are invalid: ${error.message}`);
  }
  if (error instanceof StoreUnavailableError) {
    return oneLine(error.file ? `${error.message} (${error.file})` : error.message);
  }
  const listening = target && describeListenError(error, target);
  if (listening) return listening;
  // Anything else: its name, the first line of its message (the rest may be a stack) and code.
  const { name, message, code } = error as { name?: string; message?: string; code?: unknown };
  const first = (message ?? String(error)).split('\n').find((line) => line.trim() !== '') ?? '';
  const text = `${name ?? 'Error'}: ${first.trim()}`;
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

function describeListenError(error: unknown, { host, port }: ListenTarget): string | undefined {
  const { code, syscall } = error as { code?: string; syscall?: string };
  if (syscall === 'getaddrinfo' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `HOST "${host}" does not resolve to an address (${code}): set HOST to an address or a name this machine resolves`;
  }
  if (syscall !== 'listen') return undefined;
  switch (code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use (EADDRINUSE): stop the other process or set PORT to a free port`;
    case 'EACCES':
      return `no permission to listen on port ${port} on ${host} (EACCES): use a port above 1023 or set PORT`;
    case 'EADDRNOTAVAIL':
      return `HOST "${host}" is not an address of this machine (EADDRNOTAVAIL): set HOST to one of its addresses, or 0.0.0.0`;
    default:
      return oneLine(`cannot listen on ${host}:${port}: ${(error as Error).message}`);
  }
}

/** Several problems (a rules file's, say) joined on one line. */
function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join('; ');
}
