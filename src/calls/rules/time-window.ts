export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface TimeWindow {
  days: Weekday[];
  /** Minutes after local midnight. */
  from: number;
  to: number;
  timezone: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Last answer per zone: every call within the same minute shares it (offsets are whole minutes). */
const lastMinute = new Map<string, { epochMinute: number; day: number; minute: number }>();

/** Throws with a clear message for an unknown IANA zone. */
export function assertTimeZone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new Error(`unknown time zone "${timezone}" (use an IANA name such as Europe/Berlin)`);
  }
}

/** Local weekday and minute of the day in a zone, daylight saving included. */
export function localTime(at: Date, timezone: string): { day: number; minute: number } {
  const epochMinute = Math.floor(at.getTime() / 60_000);
  const cached = lastMinute.get(timezone);
  if (cached?.epochMinute === epochMinute) return cached;
  const computed = { epochMinute, ...formatLocalTime(at, timezone) };
  lastMinute.set(timezone, computed);
  return computed;
}

function formatLocalTime(at: Date, timezone: string): { day: number; minute: number } {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timezone, formatter);
  }
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of formatter.formatToParts(at)) {
    if (part.type === 'weekday')
      day = WEEKDAYS.indexOf(part.value.toLowerCase().slice(0, 3) as Weekday);
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

/**
 * Whether `at` falls in the window. A window whose end is before its start runs past midnight
 * (`22:00`-`06:00`): it belongs to the day it starts on.
 */
export function inWindow(window: TimeWindow, at: Date): boolean {
  const { day, minute } = localTime(at, window.timezone);
  const dayListed = (d: number) => window.days.includes(WEEKDAYS[(d + 7) % 7]);
  if (window.from <= window.to)
    return dayListed(day) && minute >= window.from && minute < window.to;
  return (dayListed(day) && minute >= window.from) || (dayListed(day - 1) && minute < window.to);
}

export function parseClock(text: string): number {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (!match || (match[1] === '24' && match[2] !== '00'))
    throw new Error(`"${text}" is not a time of day HH:MM`);
  return Number(match[1]) * 60 + Number(match[2]);
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
