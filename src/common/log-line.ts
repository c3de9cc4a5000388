import { inspect } from 'node:util';

export type LogFields = Record<string, string | number | boolean | null | undefined>;

/**
 * One log line that reads well under whichever logger the host app gives Nest. Nest's default
 * `ConsoleLogger` prints an object through `util.inspect`, a plain one as an eight-line dump;
 * this one inspects as a single line, `webhook accepted type=batch.completed seq=3 ...`. A
 * structured logger (nestjs-pino, or ConsoleLogger with `json: true`) takes its own fields as
 * they are: `msg` is the message and the rest are fields of the JSON line.
 */
export class LogLine {
  readonly msg!: string;

  constructor(msg: string, fields: LogFields = {}) {
    const defined = Object.entries(fields).filter(([, value]) => value !== undefined);
    Object.assign(this, { msg }, Object.fromEntries(defined));
  }

  /** `msg key=value key="value with spaces"`: the message, then its facts, on one line. */
  toString(): string {
    const facts = Object.entries(this)
      .filter(([key]) => key !== 'msg')
      .map(([key, value]) => `${key}=${logfmtValue(value)}`);
    return [this.msg, ...facts].join(' ');
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function logfmtValue(value: unknown): string {
  const text = String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}
