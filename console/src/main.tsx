import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, forgetToken, savedToken, saveToken, whenUnauthorized } from './api';
import { ConsoleState } from './calls-store';
import { href, onLinkClick, Route, useRoute } from './router';
import { EventStream, StreamStatus } from './stream';
import './styles.css';
import { CallsBoard } from './views/calls-board';
import { CallStory } from './views/call-story';
import { EventsView } from './views/events';
import { RulesView } from './views/rules';

function App() {
  const [token, setToken] = useState(savedToken());
  useEffect(() => {
    whenUnauthorized(() => {
      forgetToken();
      setToken(null);
    });
  }, []);
  if (!token) return <SignIn onSignedIn={setToken} />;
  return (
    <Signed
      token={token}
      onSignOut={() => {
        forgetToken();
        setToken(null);
      }}
    />
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // A cheap admin request proves the token before anything is shown.
      await api('GET', '/calls?limit=1', { token: value.trim() });
      saveToken(value.trim());
      onSignedIn(value.trim());
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? 'That token was refused. Use the service’s ADMIN_TOKEN.'
          : caught instanceof ApiError && caught.status === 404
            ? 'The admin API is off: start the service with ADMIN_TOKEN set.'
            : `Could not reach the service: ${(caught as Error).message}`,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>Switchboard console</h1>
      <form onSubmit={submit} aria-describedby="sign-in-note">
        <label for="token">Admin token</label>
        <input
          id="token"
          ref={input}
          type="password"
          autocomplete="current-password"
          value={value}
          onInput={(event) => setValue((event.target as HTMLInputElement).value)}
          required
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'sign-in-error' : undefined}
        />
        <button type="submit" disabled={busy || !value.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p id="sign-in-error" class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <p id="sign-in-note" class="note">
        The token is kept in this tab only (sessionStorage) and sent to this service alone. In
        development, <code>npm start</code> keeps it in <code>./data/dev-admin-token</code>.
      </p>
    </main>
  );
}

function Signed({ token, onSignOut }: { token: string; onSignOut: () => void }) {
  const route = useRoute();
  const state = useMemo(() => new ConsoleState(new EventStream(token)), [token]);
  const [status, setStatus] = useState<StreamStatus>('connecting');
  useEffect(() => {
    const off = state.stream.onStatus(setStatus);
    state.stream.start();
    return () => {
      off();
      state.stream.stop();
    };
  }, [state]);
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    document.title = `${titleOf(route)} · Switchboard console`;
  }, [route]);
  return (
    <div class="shell" onClick={onLinkClick}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Switchboard</span>
        <nav aria-label="Console">
          <NavLink route={{ view: 'calls' }} current={route} label="Calls" />
          <NavLink route={{ view: 'rules' }} current={route} label="Rules" />
          <NavLink route={{ view: 'events' }} current={route} label="Events" />
        </nav>
        <span
          class={`stream stream-${status}`}
          role="status"
          aria-live="polite"
          data-testid="stream-status"
        >
          {status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
          {state.stream.lastSeq !== undefined && (
            <span class="quiet"> · #{state.stream.lastSeq}</span>
          )}
        </span>
        <button type="button" class="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {route.view === 'calls' && <CallsBoard state={state} />}
        {route.view === 'call' && <CallStory state={state} id={route.id} />}
        {route.view === 'rules' && <RulesView state={state} />}
        {route.view === 'events' && <EventsView state={state} selected={route.id} />}
      </main>
    </div>
  );
}

function titleOf(route: Route): string {
  return route.view === 'call'
    ? `Call ${route.id}`
    : route.view[0].toUpperCase() + route.view.slice(1);
}

function NavLink({ route, current, label }: { route: Route; current: Route; label: string }) {
  const active = current.view === route.view || (route.view === 'calls' && current.view === 'call');
  return (
    <a href={href(route)} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the page's loading note
render(<App />, root);
