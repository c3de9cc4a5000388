import { createHmac, randomUUID } from 'node:crypto';

/** A fixed test secret, in the `whsec_` form OpenAI shows in its dashboard. */
export const TEST_SECRET = `whsec_${Buffer.from('switchboard-e2e-secret-0123456789abcdef').toString('base64')}`;

export interface Delivery {
  headers: Record<string, string>;
  body: string;
}

/** Signs a body exactly as OpenAI does (Standard Webhooks, v1 HMAC-SHA256). */
export function signDelivery(
  body: string,
  options: { secret?: string; id?: string; timestamp?: number } = {},
): Delivery {
  const secret = options.secret ?? TEST_SECRET;
  const id = options.id ?? `wh_${randomUUID().replace(/-/g, '')}`;
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${signature}`,
    },
  };
}
