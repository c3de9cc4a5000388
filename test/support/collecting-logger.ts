import { LoggerService } from '@nestjs/common';

export interface LoggedLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
  context?: string;
}

/** A host app's logger that keeps every line, for tests that read what the library says. */
export class CollectingLogger implements LoggerService {
  readonly lines: LoggedLine[] = [];
  log = (message: unknown, ...rest: unknown[]) => this.push('log', message, rest);
  error = (message: unknown, ...rest: unknown[]) => this.push('error', message, rest);
  warn = (message: unknown, ...rest: unknown[]) => this.push('warn', message, rest);
  debug = (message: unknown, ...rest: unknown[]) => this.push('debug', message, rest);
  verbose = (message: unknown, ...rest: unknown[]) => this.push('verbose', message, rest);
  fatal = (message: unknown, ...rest: unknown[]) => this.push('fatal', message, rest);

  /** Lines of a level whose text contains `text`. */
  find(level: LoggedLine['level'], text: string): LoggedLine[] {
    return this.lines.filter((line) => line.level === level && line.message.includes(text));
  }

  private push(level: LoggedLine['level'], message: unknown, rest: unknown[]) {
    const context = rest.length > 0 ? rest[rest.length - 1] : undefined;
    this.lines.push({
      level,
      message: String(message),
      context: typeof context === 'string' ? context : undefined,
    });
  }
}
