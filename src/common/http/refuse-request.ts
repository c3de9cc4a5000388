import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';

/**
 * Answers a request whose body was refused, in Nest's error shape. With `close` (for a body
 * left unread) the connection closes once the answer is out, so the rest of the body is never
 * read: after `Connection: close` Node neither drains it nor waits for another request.
 */
export function refuseRequest(
  res: Response,
  status: number,
  message: string,
  { close = true }: { close?: boolean } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (close) res.setHeader('Connection', 'close');
  res.status(status).json({ statusCode: status, error: STATUS_CODES[status], message });
}
