import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleEvent } from './sample-events';
import { Delivery, signDelivery } from './signing';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

/** The built service (`dist/main.js`) in a child process, as `npm start` runs it. */
export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the service. With `logFile`, stdout and stderr go to that file, as with
 * `npm start >> switchboard.log` (the file is then where `output()` reads from).
 */
export function startService(
  env: Record<string, string>,
  { logFile }: { logFile?: string } = {},
): Promise<ServiceProcess> {
  const fd = logFile === undefined ? undefined : openSync(logFile, 'a');
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
  });
  if (fd !== undefined) closeSync(fd); // the child holds its own copy
  let piped = '';
  child.stdout?.on('data', (chunk: Buffer) => (piped += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (piped += chunk.toString()));
  const read = () => (logFile === undefined ? piped : readFileSync(logFile, 'utf8'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 15_000;
    const poll = setInterval(() => {
      const output = read();
      const match = /listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match || Date.now() > deadline || child.exitCode !== null) {
        clearInterval(poll);
        if (match) return resolve({ child, port: Number(match[1]), output: read, exited });
        child.kill('SIGKILL'); // nobody else holds it yet: never leave it running
        reject(new Error(`the service did not start:\n${output}`));
      }
    }, 20);
  });
}

/** A signed `realtime.call.incoming` for a call from a US number to the example support line. */
export function ringingCall(callId: string): Delivery {
  const data = {
    call_id: callId,
    sip_headers: [
      { name: 'From', value: '<sip:+14155550123@pbx.example.com>' },
      { name: 'To', value: '<sip:+18005550100@sip.api.openai.com>' },
    ],
  };
  return signDelivery(JSON.stringify(sampleEvent('realtime.call.incoming', { data })));
}

/** POSTs a delivery to the service; the status, or 'refused' when nothing answered. */
export async function deliverTo(port: number, delivery: Delivery): Promise<number | 'refused'> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/webhooks/openai`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
      signal: AbortSignal.timeout(5000),
    });
    await response.text();
    return response.status;
  } catch {
    return 'refused';
  }
}
