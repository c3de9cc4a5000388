import { BadRequestException } from '@nestjs/common';
import { json, NextFunction, Request, RequestHandler, Response } from 'express';
import { shapeProblem } from './document-shape';

/**
 * JSON bodies for an admin API, as a chain of middleware: a body that is not declared as JSON
 * is refused (it would otherwise reach the handler as nothing, and fail there as a 500); then
 * it is parsed; then a parsed body nested too deep or too large is refused before any
 * recursive walker (class-transformer, structuredClone) overflows the stack on it.
 */
export function jsonBody(limit = '1mb'): RequestHandler[] {
  return [requireJsonType, json({ limit }), boundShape];
}

function requireJsonType(req: Request, _res: Response, next: NextFunction): void {
  const hasBody =
    req.headers['transfer-encoding'] !== undefined ||
    (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
  if (hasBody && !req.is(['application/json', '+json'])) {
    const type = req.headers['content-type'];
    throw new BadRequestException(
      `the body must be JSON sent with Content-Type: application/json (it was sent ${type ? `as ${type}` : 'without a Content-Type'})`,
    );
  }
  next();
}

function boundShape(req: Request, _res: Response, next: NextFunction): void {
  const problem = req.body === undefined ? undefined : shapeProblem(req.body);
  if (problem) throw new BadRequestException(`the JSON body ${problem}`);
  next();
}
