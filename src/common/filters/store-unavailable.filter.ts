import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { StoreUnavailableError } from '../store/store-health';

/** Seconds a client is asked to wait before it tries again (OpenAI keeps its own schedule). */
const RETRY_AFTER_SECONDS = 30;

/**
 * A request that needs a store which cannot serve now (full disk, corrupt file) is answered 503
 * with the store's message, not 500: nothing was stored or acknowledged, and the sender should
 * try again later. Readiness says the same thing meanwhile.
 */
@Catch(StoreUnavailableError)
export class StoreUnavailableFilter implements ExceptionFilter<StoreUnavailableError> {
  catch(error: StoreUnavailableError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const response = host.switchToHttp().getResponse<Response>();
    response
      .status(503)
      .setHeader('Retry-After', String(RETRY_AFTER_SECONDS))
      .json({ statusCode: 503, error: 'Service Unavailable', message: error.message });
  }
}
