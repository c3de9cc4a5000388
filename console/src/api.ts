// The admin API, with the token the operator signed in with. The token lives in this tab's
// sessionStorage only: closing the tab forgets it, and no other tab or later visit sees it.

const TOKEN_KEY = 'switchboard.console.token';

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An answer other than 2xx: its status, the API's message, and the body (problems...). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => undefined;

/** Called when the API refuses the token (401): the console returns to sign-in. */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  etag: string | null;
}

export async function api<T>(
  method: string,
  path: string,
  options: {
    body?: unknown;
    headers?: Record<string, string>;
    signal?: AbortSignal;
    token?: string;
  } = {},
): Promise<ApiAnswer<T>> {
  const token = options.token ?? savedToken() ?? '';
  const response = await fetch(path, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: kept as text
  }
  if (!response.ok) {
    if (response.status === 401 && options.token === undefined) onUnauthorized();
    throw new ApiError(
      response.status,
      messageOf(body) ?? `${response.status} ${response.statusText}`,
      body,
    );
  }
  return { status: response.status, body: body as T, etag: response.headers.get('ETag') };
}

function messageOf(body: unknown): string | undefined {
  if (typeof body === 'string') return body || undefined;
  if (body && typeof body === 'object' && 'message' in body) {
    const message = (body as { message: unknown }).message;
    return Array.isArray(message) ? message.join('; ') : String(message);
  }
  return undefined;
}

/** The ETag's version: `"abc"` or `W/"abc"` → abc. */
export function versionOf(etag: string | null): string | undefined {
  return etag ? etag.replace(/^W\//, '').replace(/"/g, '') : undefined;
}
