import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import type { ConsoleState } from '../calls-store';
import { href, navigate } from '../router';
import type { EventDetail, EventSummary } from '../types';
import { useStateVersion } from '../use-state-version';

const TYPE_PATTERN = /^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$/i;

function typeMatches(pattern: string, type: string): boolean {
  if (!pattern || pattern === '*') return true;
  return pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern;
}

/** Every stored event, newest first, live; one event's payload, handler runs and replay. */
export function EventsView({ state, selected }: { state: ConsoleState; selected?: string }) {
  const version = useStateVersion(state);
  const [type, setType] = useState('');
  const [idFilter, setIdFilter] = useState('');
  const [pages, setPages] = useState<EventSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const typeValid = !type || TYPE_PATTERN.test(type);
  const latest = useRef(0);

  // The API pages oldest first from a cursor (events after a seq); the console wants the
  // newest: it reads windows of 500 sequence numbers backwards from the newest until it has
  // 200 events of the type asked for (at most 20 windows a click).
  const loadBefore = async (end: number, replace: boolean) => {
    setError(undefined);
    // A new filter: what was listed under the old one goes at once, not when the answer comes.
    if (replace) setPages([]);
    // Only the answer to the latest filter is shown, whatever order the answers come in.
    const ticket = ++latest.current;
    try {
      const found: EventSummary[] = [];
      let rounds = 0;
      while (found.length < 200 && end > 0 && rounds++ < 20) {
        const start = Math.max(0, end - 500);
        const query = new URLSearchParams({ limit: '500', cursor: String(start) });
        if (type) query.set('type', type);
        const { body } = await api<{ events: EventSummary[] }>('GET', `/events?${query}`);
        found.push(...body.events.filter((event) => event.seq <= end).reverse());
        end = start;
      }
      if (ticket !== latest.current) return;
      setPages((current) => (replace ? found : [...current, ...found]));
      setCursor(end > 0 ? String(end) : null);
    } catch (caught) {
      setError((caught as Error).message);
    }
  };
  const loadNewest = () => loadBefore((state.stream.lastSeq ?? 0) + 1, true);
  const loadOlder = () => (cursor ? loadBefore(Number(cursor), false) : Promise.resolve());
  useEffect(() => {
    if (typeValid && state.stream.lastSeq !== undefined) void loadNewest();
  }, [type, state.stream.lastSeq === undefined]);

  const events = useMemo(() => {
    const newestLoaded = pages[0]?.seq ?? 0;
    const live = state.recentEvents.filter(
      (event) => event.seq > newestLoaded && typeMatches(type, event.type),
    );
    const needle = idFilter.trim().toLowerCase();
    return [...live, ...pages].filter(
      (event) => !needle || event.id.toLowerCase().includes(needle) || String(event.seq) === needle,
    );
  }, [pages, version, type, idFilter]);

  return (
    <section aria-labelledby="events-title" class="events">
      <div class="view-head">
        <h1 id="events-title">Events</h1>
      </div>
      <form
        class="filters"
        role="search"
        aria-label="Filter events"
        onSubmit={(event) => event.preventDefault()}
      >
        <label>
          Type
          <input
            value={type}
            placeholder="call.* or batch.completed"
            aria-invalid={typeValid ? undefined : 'true'}
            aria-describedby="type-help"
            onInput={(event) => setType((event.target as HTMLInputElement).value.trim())}
          />
        </label>
        <span id="type-help" class={typeValid ? 'quiet' : 'error'}>
          {typeValid ? 'exact, prefix.* or *' : 'a type is an exact name, prefix.* or *'}
        </span>
        <label>
          Event id or #seq
          <input
            value={idFilter}
            onInput={(event) => setIdFilter((event.target as HTMLInputElement).value)}
          />
        </label>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="events-grid">
        <table class="plain events-table">
          <caption class="visually-hidden">Stored events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Type</th>
              <th scope="col">Id</th>
              <th scope="col">Source</th>
              <th scope="col">Received</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr
                key={event.seq}
                aria-current={selected === String(event.seq) ? 'true' : undefined}
              >
                <td class="num">{event.seq}</td>
                <td>
                  <a href={href({ view: 'events', id: String(event.seq) })}>{event.type}</a>
                </td>
                <td>
                  <code>{event.id}</code>
                </td>
                <td>{event.source}</td>
                <td class="num">
                  <time dateTime={event.received_at}>
                    {new Date(event.received_at).toLocaleTimeString([], { hour12: false })}
                  </time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {selected && <EventDetailPanel id={selected} version={version} />}
      </div>
      {cursor && (
        <button type="button" onClick={() => void loadOlder()}>
          Older events
        </button>
      )}
    </section>
  );
}

function EventDetailPanel({ id, version }: { id: string; version: number }) {
  const [detail, setDetail] = useState<EventDetail>();
  const [error, setError] = useState<string>();
  const [replay, setReplay] = useState<{ text: string; bad?: boolean }>();
  const load = () =>
    api<EventDetail>('GET', `/events/${encodeURIComponent(id)}`).then(
      (answer) => {
        setDetail(answer.body);
        setError(undefined);
      },
      (caught: Error) => setError(caught.message),
    );
  useEffect(() => {
    setReplay(undefined);
    void load();
  }, [id]);
  // Handler runs change as they finish: read again while any is still pending or retrying.
  useEffect(() => {
    if (detail?.handlers.some((run) => run.status === 'pending' || run.status === 'retrying')) {
      const timer = setTimeout(() => void load(), 1000);
      return () => clearTimeout(timer);
    }
  }, [detail, version]);
  const doReplay = async () => {
    try {
      const answer = await api<{ handlers: string[] }>(
        'POST',
        `/events/${encodeURIComponent(id)}/replay`,
      );
      setReplay({
        text: `Replayed to ${answer.body.handlers.length} handler(s): ${answer.body.handlers.join(', ') || 'none'}.`,
      });
    } catch (caught) {
      setReplay({ bad: true, text: caught instanceof ApiError ? caught.message : String(caught) });
    }
    void load();
  };
  return (
    <aside class="panel event-detail" aria-labelledby="event-title">
      <div class="view-head">
        <h2 id="event-title">Event #{id}</h2>
        <button type="button" class="link" onClick={() => navigate(href({ view: 'events' }))}>
          Close
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {detail && (
        <>
          <p>
            <strong>{detail.type}</strong> <code>{detail.id}</code> · {detail.source} · received{' '}
            {new Date(detail.received_at).toLocaleString()}
          </p>
          <h3 id="runs-title">Handler runs</h3>
          {detail.handlers.length === 0 ? (
            <p class="quiet">No handler ran for this event.</p>
          ) : (
            <table class="plain" aria-labelledby="runs-title">
              <thead>
                <tr>
                  <th scope="col">Handler</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {detail.handlers.map((run) => (
                  <tr key={run.handler}>
                    <td>
                      <code>{run.handler}</code>
                    </td>
                    <td>
                      <span class={`pill run-${run.status}`}>{run.status}</span>
                    </td>
                    <td class="num">{run.attempts}</td>
                    <td>{run.lastError ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <div class="buttons">
            <button type="button" onClick={() => void doReplay()}>
              Replay
            </button>
          </div>
          {replay && (
            <p class={replay.bad ? 'error' : 'ok'} role="status">
              {replay.text}
            </p>
          )}
          <h3>Payload</h3>
          <pre class="payload">{JSON.stringify(detail.payload, null, 2)}</pre>
        </>
      )}
    </aside>
  );
}
