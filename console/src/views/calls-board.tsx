import { useMemo, useRef, useState, useLayoutEffect } from 'preact/hooks';
import {
  actionLabel,
  BoardState,
  callDuration,
  called,
  caller,
  callState,
  formatDuration,
  routeLabel,
  surfaceLabel,
} from '../call-state';
import type { ConsoleState } from '../calls-store';
import { href } from '../router';
import type { CallRecord } from '../types';
import { useNow, useStateVersion } from '../use-state-version';

const ROW_HEIGHT = 36;
const OVERSCAN = 8;

interface Row {
  record: CallRecord;
  state: BoardState;
  caller: string;
  called: string;
  route: string;
}

/**
 * Ringing, talking and recently ended calls, newest first, live from the stream. Only the rows
 * in view are in the page (a thousand calls are a few dozen elements), and only they tick.
 */
export function CallsBoard({ state }: { state: ConsoleState }) {
  const version = useStateVersion(state);
  const [number, setNumber] = useState('');
  const [rule, setRule] = useState('');
  const [which, setWhich] = useState<'' | BoardState>('');
  const rows = useMemo<Row[]>(
    () =>
      state.sorted().map((record) => ({
        record,
        state: callState(record),
        caller: caller(record),
        called: called(record),
        route: routeLabel(record),
      })),
    [version],
  );
  const routes = useMemo(() => [...new Set(rows.map((row) => row.route))].sort(), [rows]);
  const shown = useMemo(() => {
    const digits = number.trim().toLowerCase();
    return rows.filter(
      (row) =>
        (!which || row.state === which) &&
        (!rule || row.route === rule) &&
        (!digits ||
          row.caller.toLowerCase().includes(digits) ||
          row.called.toLowerCase().includes(digits)),
    );
  }, [rows, number, rule, which]);
  const counts = useMemo(() => {
    const by = { ringing: 0, talking: 0, ended: 0 };
    rows.forEach((row) => by[row.state]++);
    return by;
  }, [rows]);
  return (
    <section aria-labelledby="calls-title">
      <div class="view-head">
        <h1 id="calls-title">Calls</h1>
        <p class="counts" aria-live="polite">
          <span class="pill ringing">{counts.ringing} ringing</span>{' '}
          <span class="pill talking">{counts.talking} talking</span>{' '}
          <span class="pill ended">{counts.ended} ended</span>
        </p>
      </div>
      <form
        class="filters"
        role="search"
        aria-label="Filter calls"
        onSubmit={(event) => event.preventDefault()}
      >
        <label>
          Number
          <input
            type="search"
            value={number}
            placeholder="caller or called"
            onInput={(event) => setNumber((event.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Rule
          <select
            value={rule}
            onChange={(event) => setRule((event.target as HTMLSelectElement).value)}
          >
            <option value="">any</option>
            {routes.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          State
          <select
            value={which}
            onChange={(event) =>
              setWhich((event.target as HTMLSelectElement).value as '' | BoardState)
            }
          >
            <option value="">any</option>
            <option value="ringing">ringing</option>
            <option value="talking">talking</option>
            <option value="ended">ended</option>
          </select>
        </label>
        <span class="quiet" aria-live="polite">
          {shown.length === rows.length
            ? `${rows.length} calls`
            : `${shown.length} of ${rows.length} calls`}
        </span>
      </form>
      {state.loadError && (
        <p class="error" role="alert">
          Could not load the calls: {state.loadError}
        </p>
      )}
      {state.loading && rows.length === 0 ? (
        <p class="quiet">Loading calls…</p>
      ) : rows.length === 0 ? (
        <p class="quiet">
          No calls yet. They appear here as they ring (try <code>npm run demo</code>).
        </p>
      ) : (
        <CallTable rows={shown} total={rows.length} />
      )}
    </section>
  );
}

const COLUMNS = [
  'State',
  'Caller',
  'Called',
  'Surface',
  'Route',
  'Action',
  'Status',
  'Duration',
  'Started',
];

function CallTable({ rows, total }: { rows: Row[]; total: number }) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const now = useNow();
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const measure = () => setHeight(element.clientHeight || 600);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const visible = rows.slice(first, last);
  return (
    <div
      class="table"
      role="table"
      aria-label="Calls, newest first"
      aria-rowcount={rows.length + 1}
      data-total={total}
    >
      <div role="rowgroup" class="thead">
        <div role="row" class="row head" aria-rowindex={1}>
          {COLUMNS.map((name) => (
            <span role="columnheader" key={name}>
              {name}
            </span>
          ))}
        </div>
      </div>
      <div
        role="rowgroup"
        class="tbody"
        ref={scroller}
        // Focusable, so the arrow and page keys scroll the list; the links in view take Tab.
        tabIndex={0}
        aria-label="Calls list: scroll with the arrow and page keys"
        onScroll={(event) => setScrollTop((event.target as HTMLDivElement).scrollTop)}
      >
        <div style={{ height: `${rows.length * ROW_HEIGHT}px`, position: 'relative' }}>
          {visible.map((row, offset) => {
            const index = first + offset;
            const record = row.record;
            return (
              <div
                role="row"
                class={`row state-${row.state}`}
                key={record.call_id}
                aria-rowindex={index + 2}
                data-call-id={record.call_id}
                style={{ top: `${index * ROW_HEIGHT}px` }}
              >
                <span role="cell">
                  <span class={`pill ${row.state}`}>{row.state}</span>
                </span>
                <span role="cell">
                  <a
                    href={href({ view: 'call', id: record.call_id })}
                    aria-label={`Call from ${row.caller || 'unknown'}, ${row.state}: open its story`}
                  >
                    {row.caller || '(unknown)'}
                  </a>
                </span>
                <span role="cell">{row.called}</span>
                <span role="cell">{surfaceLabel(record)}</span>
                <span role="cell">{row.route}</span>
                <span role="cell">{actionLabel(record.decision.action)}</span>
                <span role="cell">{record.status.replace('_', ' ')}</span>
                <span role="cell" class="num">
                  {formatDuration(callDuration(record, now))}
                </span>
                <span role="cell" class="num">
                  <time dateTime={record.timings.received_at}>
                    {new Date(record.timings.received_at).toLocaleTimeString()}
                  </time>
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
