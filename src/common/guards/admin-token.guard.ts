import {
  CanActivate,
  ExecutionContext,
  Injectable,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import type { Request } from 'express';
import { bearerToken, SecretToken } from '../bearer-token';

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
  private readonly expected: SecretToken | undefined;

  constructor(source: AdminTokenSource) {
    this.expected = source.adminToken ? new SecretToken(source.adminToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) {
      throw new NotFoundException('the admin API is off: set ADMIN_TOKEN to enable it');
    }
    const token = bearerToken(context.switchToHttp().getRequest<Request>().headers.authorization);
    if (token === undefined)
      throw new UnauthorizedException('missing "Authorization: Bearer <token>" header');
    if (!this.expected.matches(token)) throw new UnauthorizedException('invalid admin token');
    return true;
  }
}
