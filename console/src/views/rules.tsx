import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, versionOf } from '../api';
import { actionLabel, caller, called, surfacesInOrder } from '../call-state';
import type { ConsoleState } from '../calls-store';
import { jsonPathLines, lineOf, parseHeaderLines, syntaxErrorLine } from '../json-lines';
import type { CallRecord, EvaluateAnswer, RuleProblem, RulesDocument } from '../types';
import { useStateVersion } from '../use-state-version';
import { ConfirmDialog } from './confirm';

interface Problem extends RuleProblem {
  line: number;
}

/** Headers for checking a rule set alone: POST /rules/evaluate validates `rules` first. */
const PROBE_HEADERS = [
  { name: 'From', value: '<sip:+10000000000@validate.invalid>' },
  { name: 'To', value: '<sip:+10000000001@validate.invalid>' },
];

/**
 * The routing rules: read them, edit them with the API's own validation as you type (each
 * problem at its line), try the edit on a call before it is live, and save it against the
 * version it was made on, so that someone else's save in between is a conflict, never lost.
 */
export function RulesView({ state }: { state: ConsoleState }) {
  const [loaded, setLoaded] = useState<RulesDocument>();
  const [loadError, setLoadError] = useState<string>();
  const [text, setText] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [checking, setChecking] = useState(false);
  const [saved, setSaved] = useState<string>();
  const [conflict, setConflict] = useState<RulesDocument>();
  const [saveError, setSaveError] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const editor = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);

  const load = async () => {
    try {
      const answer = await api<RulesDocument>('GET', '/rules');
      setLoaded({ ...answer.body, version: versionOf(answer.etag) ?? answer.body.version });
      setText(JSON.stringify(answer.body.document, null, 2));
      setProblems([]);
      setConflict(undefined);
      setLoadError(undefined);
    } catch (caught) {
      setLoadError((caught as Error).message);
    }
  };
  useEffect(() => void load(), []);

  const original = useMemo(
    () => (loaded ? JSON.stringify(loaded.document, null, 2) : ''),
    [loaded],
  );
  const edited = loaded !== undefined && text !== original;
  const parsed = useMemo(() => {
    try {
      return { document: JSON.parse(text) as unknown };
    } catch (error) {
      return { error: error as Error };
    }
  }, [text]);

  // As you type: JSON syntax here, everything else by the API (the same checks as a save).
  useEffect(() => {
    if (!loaded) return;
    if ('error' in parsed) {
      setProblems([
        {
          path: '(syntax)',
          message: parsed.error!.message,
          line: syntaxErrorLine(text, parsed.error!),
        },
      ]);
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(async () => {
      setChecking(true);
      try {
        await api('POST', '/rules/evaluate', {
          body: { rules: parsed.document, sip_headers: PROBE_HEADERS },
          signal: abort.signal,
        });
        setProblems([]);
      } catch (caught) {
        if (abort.signal.aborted) return;
        const body =
          caught instanceof ApiError ? (caught.body as { problems?: RuleProblem[] }) : undefined;
        const lines = jsonPathLines(text);
        setProblems(
          (body?.problems ?? [{ path: '(document)', message: (caught as Error).message }]).map(
            (problem) => ({
              ...problem,
              line: lineOf(lines, problem.path, problem.message),
            }),
          ),
        );
      } finally {
        if (!abort.signal.aborted) setChecking(false);
      }
    }, 300);
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [parsed, loaded]);

  const save = async () => {
    if (!loaded || 'error' in parsed) return;
    setConfirming(false);
    setSaveError(undefined);
    setSaved(undefined);
    try {
      const answer = await api<{ version: string; document: RulesDocument['document'] }>(
        'PUT',
        '/rules',
        {
          body: parsed.document,
          headers: { 'If-Match': `"${loaded.version}"` },
        },
      );
      const version = versionOf(answer.etag) ?? answer.body.version;
      setLoaded({ ...loaded, version, document: answer.body.document });
      setText(JSON.stringify(answer.body.document, null, 2));
      setSaved(`Saved: the rules are now version ${version}.`);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 412) {
        // Someone saved since this edit began: show theirs, keep ours, overwrite nothing.
        const theirs = await api<RulesDocument>('GET', '/rules');
        setConflict({ ...theirs.body, version: versionOf(theirs.etag) ?? theirs.body.version });
        return;
      }
      setSaveError((caught as Error).message);
    }
  };

  if (loadError) {
    return (
      <p class="error" role="alert">
        Could not load the rules: {loadError}
      </p>
    );
  }
  if (!loaded) return <p role="status">Loading the rules…</p>;
  const readOnly = loaded.file === true;
  const lineCount = text.split('\n').length;
  const badLines = new Map<number, Problem[]>();
  problems.forEach((problem) =>
    badLines.set(problem.line, [...(badLines.get(problem.line) ?? []), problem]),
  );
  const goTo = (line: number) => {
    const area = editor.current;
    if (!area) return;
    const offset =
      text
        .split('\n')
        .slice(0, line - 1)
        .join('\n').length + (line > 1 ? 1 : 0);
    area.focus();
    area.setSelectionRange(offset, offset);
    area.scrollTop = Math.max(0, (line - 3) * 20);
  };

  return (
    <section aria-labelledby="rules-title" class="rules">
      <div class="view-head">
        <h1 id="rules-title">Rules</h1>
        <p class="quiet">
          version <code data-testid="rules-version">{loaded.version}</code> ·{' '}
          {loaded.document.rules.length} rules · loaded{' '}
          {new Date(loaded.loaded_at).toLocaleString()}
        </p>
      </div>
      {readOnly && (
        <p class="note" role="note" data-testid="read-only-note">
          A rules file is in charge ({loaded.source}): edit that file to change the rules. Here they
          can be read and tried, not saved.
        </p>
      )}
      {loaded.warnings.length > 0 && (
        <details class="panel">
          <summary>{loaded.warnings.length} warning(s) on the live rules</summary>
          <ul>
            {loaded.warnings.map((warning, index) => (
              <li key={index}>{warning}</li>
            ))}
          </ul>
        </details>
      )}
      {conflict && (
        <div class="conflict" role="alert" data-testid="conflict">
          <h2>Not saved: the rules changed meanwhile</h2>
          <p>
            Your edit was made on version <code>{loaded.version}</code>; someone has since saved
            version <code>{conflict.version}</code>. Nothing was overwritten. Your text is still in
            the editor: compare it with theirs below, then load theirs and apply your change again.
          </p>
          <details>
            <summary>Their rules (version {conflict.version})</summary>
            <pre>{JSON.stringify(conflict.document, null, 2)}</pre>
          </details>
          <button type="button" onClick={() => void load()}>
            Load their version (discards your edit)
          </button>
        </div>
      )}
      <div class="rules-grid">
        <div class="panel">
          <h2 id="editor-title">{readOnly ? 'Rules (read-only)' : 'Edit (JSON)'}</h2>
          <div class="editor">
            <div class="gutter" ref={gutter} aria-hidden="true">
              {Array.from({ length: lineCount }, (_, index) => (
                <div key={index} class={badLines.has(index + 1) ? 'bad' : undefined}>
                  {index + 1}
                </div>
              ))}
            </div>
            <textarea
              ref={editor}
              aria-labelledby="editor-title"
              aria-describedby="problems"
              aria-invalid={problems.length > 0 ? 'true' : undefined}
              spellcheck={false}
              readOnly={readOnly}
              value={text}
              wrap="off"
              onInput={(event) => {
                setText((event.target as HTMLTextAreaElement).value);
                setSaved(undefined);
              }}
              onScroll={(event) => {
                if (gutter.current)
                  gutter.current.scrollTop = (event.target as HTMLTextAreaElement).scrollTop;
              }}
            />
          </div>
          <div id="problems" aria-live="polite" data-testid="problems">
            {problems.length === 0 ? (
              <p class="ok">
                {checking
                  ? 'Checking…'
                  : edited
                    ? 'Valid: the service accepts these rules.'
                    : 'No changes.'}
              </p>
            ) : (
              <ul class="problems">
                {problems.map((problem, index) => (
                  <li key={index}>
                    <button type="button" class="link" onClick={() => goTo(problem.line)}>
                      line {problem.line}
                    </button>{' '}
                    <code>{problem.path}</code>: {problem.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
          {!readOnly && (
            <div class="buttons">
              <button type="button" disabled={!edited} onClick={() => setText(original)}>
                Discard changes
              </button>
              <button
                type="button"
                class="primary"
                disabled={!edited || problems.length > 0 || checking}
                onClick={() => setConfirming(true)}
              >
                Save…
              </button>
            </div>
          )}
          {saved && (
            <p class="ok" role="status">
              {saved}
            </p>
          )}
          {saveError && (
            <p class="error" role="alert">
              Not saved: {saveError}
            </p>
          )}
        </div>
        <DryRun
          state={state}
          rules={'error' in parsed ? undefined : parsed.document}
          edited={edited}
        />
      </div>
      {confirming && (
        <ConfirmDialog
          title="Make these rules live?"
          confirmLabel="Save"
          onConfirm={() => void save()}
          onCancel={() => setConfirming(false)}
        >
          <p>
            Calls that ring from now on are decided by the edited rules. The save applies to version{' '}
            <code>{loaded.version}</code> only: if someone saved meanwhile, nothing is overwritten.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

type Source = 'call' | 'headers' | 'hour';

interface Change {
  record: CallRecord;
  before: string;
  after: string;
}

/** The dry run of the edited rules: on one call (real or pasted) or on every call of the last hour. */
function DryRun({
  state,
  rules,
  edited,
}: {
  state: ConsoleState;
  rules: unknown;
  edited: boolean;
}) {
  const version = useStateVersion(state);
  const recent = useMemo(() => state.sorted().slice(0, 50), [version]);
  const [source, setSource] = useState<Source>('call');
  const [callId, setCallId] = useState('');
  const [headers, setHeaders] = useState(
    'From: "Alice" <sip:+14155550123@pbx.example.com>;tag=1\nTo: <sip:+18005550100@sip.api.openai.com>',
  );
  const [at, setAt] = useState('');
  const [pair, setPair] = useState<{ left: string; leftTitle: string; right: EvaluateAnswer }>();
  const [hour, setHour] = useState<{ total: number; changes: Change[]; capped: boolean }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const chosen = recent.find((record) => record.call_id === callId) ?? recent[0];

  const evaluate = (body: Record<string, unknown>) =>
    api<EvaluateAnswer>('POST', '/rules/evaluate', {
      body: rules === undefined ? body : { ...body, rules },
    }).then((answer) => answer.body);
  const forRecord = (record: CallRecord) =>
    evaluate({
      sip_headers: record.sip_headers,
      at: record.timings.received_at,
      surfaces: surfacesInOrder(record),
      sip_media_security: Object.values(record.surfaces).find(
        (arrival) => arrival?.sip_media_security,
      )?.sip_media_security,
    });

  const run = async () => {
    setBusy(true);
    setError(undefined);
    setPair(undefined);
    setHour(undefined);
    try {
      if (source === 'call' && chosen) {
        const answer = await forRecord(chosen);
        setPair({ leftTitle: 'What it did', left: describe(chosen.decision), right: answer });
      } else if (source === 'headers') {
        const body = {
          sip_headers: parseHeaderLines(headers),
          ...(at ? { at: new Date(at).toISOString() } : {}),
        };
        const live = await api<EvaluateAnswer>('POST', '/rules/evaluate', { body });
        const answer = await evaluate(body);
        setPair({ leftTitle: 'Under the live rules', left: describe(live.body), right: answer });
      } else if (source === 'hour') {
        const since = Date.now() - 3600_000;
        const calls = state
          .sorted()
          .filter((record) => Date.parse(record.timings.received_at) >= since);
        const capped = calls.length > 500;
        const changes: Change[] = [];
        let next = 0;
        const worker = async () => {
          while (next < Math.min(calls.length, 500)) {
            const record = calls[next++];
            const answer = await forRecord(record);
            const before = describe(record.decision);
            const after = describe(answer);
            if (before !== after) changes.push({ record, before, after });
          }
        };
        await Promise.all([worker(), worker(), worker(), worker()]);
        changes.sort(
          (a, b) =>
            Date.parse(b.record.timings.received_at) - Date.parse(a.record.timings.received_at),
        );
        setHour({ total: Math.min(calls.length, 500), changes, capped });
      }
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="panel dry-run" aria-labelledby="dry-run-title">
      <h2 id="dry-run-title">Dry run {edited ? 'of the edited rules' : 'of the live rules'}</h2>
      <fieldset>
        <legend>Try on</legend>
        <label>
          <input
            type="radio"
            name="source"
            checked={source === 'call'}
            onChange={() => setSource('call')}
          />{' '}
          a recent call
        </label>
        <label>
          <input
            type="radio"
            name="source"
            checked={source === 'headers'}
            onChange={() => setSource('headers')}
          />{' '}
          pasted headers
        </label>
        <label>
          <input
            type="radio"
            name="source"
            checked={source === 'hour'}
            onChange={() => setSource('hour')}
          />{' '}
          every call of the last hour
        </label>
      </fieldset>
      {source === 'call' && (
        <label>
          <span>Call</span>
          <select
            aria-label="Call"
            value={chosen?.call_id ?? ''}
            onChange={(event) => setCallId((event.target as HTMLSelectElement).value)}
          >
            {recent.length === 0 && <option value="">no calls yet</option>}
            {recent.map((record) => (
              <option key={record.call_id} value={record.call_id}>
                {new Date(record.timings.received_at).toLocaleTimeString()} {caller(record)} →{' '}
                {called(record)} ({record.call_id})
              </option>
            ))}
          </select>
        </label>
      )}
      {source === 'headers' && (
        <>
          <label>
            SIP headers, one <code>Name: value</code> a line
            <textarea
              rows={5}
              value={headers}
              onInput={(event) => setHeaders((event.target as HTMLTextAreaElement).value)}
            />
          </label>
          <label>
            At (optional; default now)
            <input
              type="datetime-local"
              value={at}
              onInput={(event) => setAt((event.target as HTMLInputElement).value)}
            />
          </label>
        </>
      )}
      <div class="buttons">
        <button
          type="button"
          class="primary"
          disabled={busy || (source === 'call' && !chosen)}
          onClick={() => void run()}
        >
          {busy ? 'Running…' : 'Run the dry run'}
        </button>
      </div>
      {rules === undefined && (
        <p class="quiet">The editor's text is not JSON: the dry run uses the live rules.</p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {pair && (
        <div class="side-by-side" data-testid="dry-run-result" aria-live="polite">
          <div>
            <h3>{pair.leftTitle}</h3>
            <p data-testid="dry-run-before">{pair.left}</p>
          </div>
          <div>
            <h3>{edited ? 'Under the edited rules' : 'Under the live rules now'}</h3>
            <p
              data-testid="dry-run-after"
              class={describe(pair.right) !== pair.left ? 'changed' : undefined}
            >
              {describe(pair.right)}
            </p>
            {pair.right.explanation.rules_before.length > 0 && (
              <ul class="quiet">
                {pair.right.explanation.rules_before.map((failure) => (
                  <li key={failure.rule}>
                    rule {failure.rule} did not match: {failure.failed}
                  </li>
                ))}
              </ul>
            )}
            {pair.right.surface && <p class="quiet">sent to {pair.right.surface}</p>}
          </div>
        </div>
      )}
      {hour && (
        <div data-testid="hour-diff" aria-live="polite">
          <p>
            {hour.changes.length} of {hour.total} call(s) of the last hour would be decided
            differently
            {hour.capped ? ' (the newest 500 tried)' : ''}.
          </p>
          {hour.changes.length > 0 && (
            <table class="plain">
              <caption class="visually-hidden">Calls whose decision changes</caption>
              <thead>
                <tr>
                  <th scope="col">Call</th>
                  <th scope="col">Was</th>
                  <th scope="col">Would be</th>
                </tr>
              </thead>
              <tbody>
                {hour.changes.map((change) => (
                  <tr key={change.record.call_id}>
                    <td>
                      {caller(change.record)} → {called(change.record)}
                    </td>
                    <td>{change.before}</td>
                    <td class="changed">{change.after}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}

function describe(decision: {
  route: string;
  rule: string | null;
  action: EvaluateAnswer['action'];
}): string {
  const by = decision.route === 'rule' ? `rule ${decision.rule}` : decision.route;
  return `${by}: ${actionLabel(decision.action)}`;
}
