import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import {
  actionLabel,
  callDuration,
  callState,
  called,
  caller,
  formatDuration,
  surfaceLabel,
  surfacesInOrder,
} from '../call-state';
import type { ConsoleState } from '../calls-store';
import type { CallRecord } from '../types';
import { href } from '../router';
import { buildTimeline } from '../timeline';
import { useNow, useStateVersion } from '../use-state-version';
import { ConfirmDialog } from './confirm';

type Action =
  { kind: 'hangup' } | { kind: 'refer'; target: string } | { kind: 'message'; text: string };

/** One call: its timeline from ringing to end, its SIP headers, and the operator's actions. */
export function CallStory({ state, id }: { state: ConsoleState; id: string }) {
  useStateVersion(state);
  const now = useNow();
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string>();
  const [asking, setAsking] = useState<Action>();
  const [result, setResult] = useState<{ text: string; bad?: boolean }>();
  const [target, setTarget] = useState('');
  const [message, setMessage] = useState('');
  useEffect(() => {
    setMissing(false);
    state.refresh(id).then(
      (record) => setMissing(!record),
      (caught: Error) => setError(caught.message),
    );
  }, [id]);
  const record = state.get(id);
  const timeline = useMemo(() => (record ? buildTimeline(record) : []), [record]);
  if (!record) {
    return (
      <section>
        <p>
          <a href={href({ view: 'calls' })}>← Calls</a>
        </p>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : (
          <p role="status">{missing ? `No call ${id}.` : 'Loading the call…'}</p>
        )}
      </section>
    );
  }
  const run = async (action: Action) => {
    setAsking(undefined);
    setResult({ text: 'Sending…' });
    const path = `/calls/${encodeURIComponent(record.call_id)}/${action.kind}`;
    const body =
      action.kind === 'refer'
        ? { target_uri: action.target }
        : action.kind === 'message'
          ? { text: action.text }
          : undefined;
    try {
      const answer = await api<{ dry_run?: boolean }>('POST', path, { body });
      const done =
        action.kind === 'hangup'
          ? 'Hung up'
          : action.kind === 'refer'
            ? `Transferred to ${action.target}`
            : 'Message sent';
      setResult({
        text: answer.body?.dry_run ? `${done} (dry run: not sent to OpenAI).` : `${done}.`,
      });
      if (action.kind === 'message') setMessage('');
    } catch (caught) {
      const status = caught instanceof ApiError ? caught.status : 0;
      setResult({
        bad: true,
        text:
          action.kind === 'message' &&
          status === 404 &&
          /Cannot POST/i.test((caught as Error).message)
            ? 'This service cannot send messages to a call yet.'
            : `Refused${status ? ` (${status})` : ''}: ${(caught as Error).message}`,
      });
    }
    await state.refresh(record.call_id).catch(() => undefined);
  };
  const current = callState(record);
  const twins = surfacesInOrder(record);
  const decision = record.decision;
  return (
    <section aria-labelledby="call-title" class="story">
      <p>
        <a href={href({ view: 'calls' })}>← Calls</a>
      </p>
      <div class="view-head">
        <h1 id="call-title">
          Call from {caller(record) || '(unknown)'} to {called(record) || '(unknown)'}
        </h1>
        <span class={`pill ${current}`}>{current}</span>
      </div>
      <dl class="facts">
        <dt>Call id</dt>
        <dd>
          <code>{record.call_id}</code>
        </dd>
        <dt>Surface</dt>
        <dd>{surfaceLabel(record)}</dd>
        {twins.length > 1 && (
          <>
            <dt>Twins</dt>
            <dd data-testid="call-twins">
              <ul class="twins">
                {twins.map((surface) => (
                  <li key={surface}>
                    {surface} <code>{record.surfaces[surface]?.id}</code>
                    {surface === record.surface && ` (${twinRole(record)})`}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
        <dt>Rule</dt>
        <dd data-testid="call-rule">
          {decision.route === 'rule' ? decision.rule : decision.route}
        </dd>
        <dt>Action</dt>
        <dd>{actionLabel(decision.action)}</dd>
        <dt>Status</dt>
        <dd>{record.status.replace('_', ' ')}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(callDuration(record, now))}</dd>
      </dl>
      <section aria-labelledby="actions-title" class="panel">
        <h2 id="actions-title">Operator actions</h2>
        <div class="actions">
          <button type="button" class="danger" onClick={() => setAsking({ kind: 'hangup' })}>
            Hang up
          </button>
          <form
            class="inline"
            onSubmit={(event) => {
              event.preventDefault();
              if (target.trim()) setAsking({ kind: 'refer', target: target.trim() });
            }}
          >
            <label>
              Transfer to
              <input
                value={target}
                placeholder="sip:desk@example.com or tel:+1…"
                onInput={(event) => setTarget((event.target as HTMLInputElement).value)}
              />
            </label>
            <button type="submit" disabled={!target.trim()}>
              Transfer…
            </button>
          </form>
          <form
            class="inline"
            onSubmit={(event) => {
              event.preventDefault();
              if (message.trim()) setAsking({ kind: 'message', text: message.trim() });
            }}
          >
            <label>
              Message to the agent
              <input
                value={message}
                onInput={(event) => setMessage((event.target as HTMLInputElement).value)}
              />
            </label>
            <button type="submit" disabled={!message.trim()}>
              Send…
            </button>
          </form>
        </div>
        {result && (
          <p class={result.bad ? 'error' : 'ok'} role="status" data-testid="action-result">
            {result.text}
          </p>
        )}
      </section>
      {asking && (
        <ConfirmDialog
          title={
            asking.kind === 'hangup'
              ? 'Hang up this call?'
              : asking.kind === 'refer'
                ? `Transfer this call to ${asking.target}?`
                : 'Send this message to the agent?'
          }
          confirmLabel={
            asking.kind === 'hangup' ? 'Hang up' : asking.kind === 'refer' ? 'Transfer' : 'Send'
          }
          danger={asking.kind !== 'message'}
          onConfirm={() => void run(asking)}
          onCancel={() => setAsking(undefined)}
        >
          <p>
            {asking.kind === 'message'
              ? `“${asking.text}”`
              : `The caller ${caller(record) || ''} is ${asking.kind === 'hangup' ? 'disconnected' : 'sent elsewhere'}; this cannot be undone.`}
          </p>
        </ConfirmDialog>
      )}
      <section aria-labelledby="timeline-title" class="panel">
        <h2 id="timeline-title">Timeline</h2>
        <ol class="timeline" data-testid="timeline">
          {timeline.map((entry, index) => (
            <li key={index} class={`entry kind-${entry.kind} ${entry.tone ?? ''}`}>
              <time dateTime={new Date(entry.at).toISOString()}>{clock(entry.at)}</time>
              <div>
                <p class="entry-title">
                  <span class="visually-hidden">{entry.kind}: </span>
                  {entry.tone === 'bad' && <span aria-hidden="true">⚠ </span>}
                  {entry.title}
                </p>
                {entry.details.length > 0 && (
                  <ul>
                    {entry.details.map((detail, at) => (
                      <li key={at}>{detail}</li>
                    ))}
                  </ul>
                )}
              </div>
            </li>
          ))}
        </ol>
      </section>
      <section aria-labelledby="headers-title" class="panel">
        <h2 id="headers-title">SIP headers</h2>
        <table class="plain">
          <caption class="visually-hidden">The INVITE's SIP headers, as received</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {record.sip_headers.map((h, index) => (
              <tr key={index}>
                <th scope="row">{h.name}</th>
                <td>
                  <code>{h.value}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </section>
  );
}

/** What the surface the call went to did with it: answered it, or only got the decision. */
function twinRole(record: CallRecord): string {
  if (
    record.answered_at ||
    (record.status === 'completed' && record.decision.action.type === 'accept')
  )
    return 'answered';
  return record.status === 'completed'
    ? `${actionLabel(record.decision.action)} sent here`
    : 'chosen';
}

function clock(at: number): string {
  const date = new Date(at);
  return `${date.toLocaleTimeString([], { hour12: false })}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}
