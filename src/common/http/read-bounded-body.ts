import type { IncomingMessage } from 'node:http';
import { BodyLimits } from './body-limits';

/** Why a body was not read; `aborted`: the client went away, there is no one to answer. */
export type BodyRefusalReason = 'too_large' | 'timeout' | 'unsupported' | 'unreadable' | 'aborted';

export interface BodyRefusal {
  ok: false;
  status: number;
  reason: BodyRefusalReason;
  message: string;
}

export type BodyReadOutcome = { ok: true; body: Buffer } | BodyRefusal;

/**
 * Reads a request body within the limits, never more: a declared Content-Length over the limit
 * is refused before a byte is read, a body (chunked or not) is left unread the moment it grows
 * past the limit, and one that takes too long is refused when the time is up. After a refusal
 * the rest of the body is never read: answer with `Connection: close` (see `refuseRequest`).
 */
export function readBoundedBody(
  req: IncomingMessage,
  limits: BodyLimits,
): Promise<BodyReadOutcome> {
  const declared = req.headers['content-length'];
  // Neither Content-Length nor Transfer-Encoding: HTTP/1.1 says there is no body.
  if (
    req.headers['transfer-encoding'] === undefined &&
    (declared === undefined || Number(declared) === 0)
  ) {
    return Promise.resolve({ ok: true, body: Buffer.alloc(0) });
  }
  const encoding = (req.headers['content-encoding'] || 'identity').trim().toLowerCase();
  if (encoding !== 'identity') {
    // Inflating would let a small body grow past every limit; OpenAI does not compress.
    return Promise.resolve(
      refusal(
        415,
        'unsupported',
        `content-encoding "${encoding.slice(0, 40)}" is not supported: send the body uncompressed`,
      ),
    );
  }
  if (declared !== undefined && Number(declared) > limits.maxBytes) {
    return Promise.resolve(tooLarge(limits));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (outcome: BodyReadOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      // Left paused, the socket stops reading: nothing more of this body is taken in.
      if (!outcome.ok) req.pause();
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return finish(tooLarge(limits));
      chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, body: Buffer.concat(chunks, size) });
    const onError = (error: Error) =>
      finish(refusal(400, 'unreadable', `the body could not be read: ${error.message}`));
    // Closed before the end: the client is gone (a finished body has ended first).
    const onClose = () => finish(refusal(400, 'aborted', 'the client closed the connection'));
    const timer = setTimeout(
      () =>
        finish(
          refusal(
            408,
            'timeout',
            `the body did not arrive within ${limits.timeoutMs} ms (${size} bytes received)`,
          ),
        ),
      limits.timeoutMs,
    );
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function tooLarge(limits: BodyLimits): BodyRefusal {
  return refusal(413, 'too_large', `the body is larger than the limit of ${limits.maxBytes} bytes`);
}

function refusal(status: number, reason: BodyRefusalReason, message: string): BodyRefusal {
  return { ok: false, status, reason, message };
}
