import { createHash, timingSafeEqual } from 'node:crypto';

/** The token of an `Authorization: Bearer <token>` header, if that is what it is. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? /^Bearer (.+)$/i.exec(header)?.[1] : undefined;
}

/**
 * A configured secret token, compared in constant time: both sides are hashed first, so they
 * have the same length and the comparison tells nothing about where they differ.
 */
export class SecretToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = digestOf(token);
  }

  matches(candidate: string | undefined): boolean {
    return candidate !== undefined && timingSafeEqual(digestOf(candidate), this.digest);
  }
}

function digestOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
