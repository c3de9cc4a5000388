import {
  CanActivate,
  ExecutionContext,
  Injectable,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

/** Where the guard finds the configured token; provided by the module that owns the routes. */
export abstract class AdminTokenSource {
  abstract readonly adminToken: string | undefined;
}

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` in constant time. With no token configured the
 * admin routes are off (404), so a forgotten variable never leaves them open.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(source: AdminTokenSource) {
    this.expected = source.adminToken ? digest(source.adminToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) {
      throw new NotFoundException('the admin API is off: set ADMIN_TOKEN to enable it');
    }
    const header = context.switchToHttp().getRequest<Request>().headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (.+)$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException('missing "Authorization: Bearer <token>" header');
    // Hashing first makes both sides the same length, so the comparison leaks nothing.
    if (!timingSafeEqual(digest(match[1]), this.expected)) {
      throw new UnauthorizedException('invalid admin token');
    }
    return true;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
