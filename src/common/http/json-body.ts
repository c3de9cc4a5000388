import type { NextFunction, Request, RequestHandler, Response } from 'express';
import sjson from 'secure-json-parse';
import { shapeProblem } from '../document-shape';
import { BodyLimits } from './body-limits';
import { readBoundedBody } from './read-bounded-body';
import { refuseRequest } from './refuse-request';

/**
 * JSON bodies for API routes, read within the same limits as the webhook's (`readBoundedBody`).
 * Every body is read within bounds, whatever its type, so none is left to be drained unbounded.
 * A JSON one (`application/json`, `*+json`) becomes `req.body`: an object or a list, `{}` when
 * empty, with `__proto__` and `constructor.prototype` keys dropped. A body of another type is
 * a 400 naming its type (it would reach the handler as nothing, and fail there), and a JSON
 * body nested too deep or too large is a 400 before any recursive walker (class-transformer,
 * structuredClone) overflows the stack on it: JSON.parse reads 100,000 levels without complaint.
 */
export function jsonBody(limits: BodyLimits): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    void readBoundedBody(req, limits).then((read) => {
      if (!read.ok) return refuseRequest(res, read.status, read.message);
      // The whole body was read: the connection can serve another request.
      const refuse = (status: number, message: string) =>
        refuseRequest(res, status, message, { close: false });
      if (!isJson(req)) {
        if (read.body.length === 0) return next();
        const type = req.headers['content-type'];
        return refuse(
          400,
          `the body must be JSON sent with Content-Type: application/json (it was sent ${type ? `as ${type.slice(0, 80)}` : 'without a Content-Type'})`,
        );
      }
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(
        req.headers['content-type'] ?? '',
      )?.[1];
      if (charset && !/^utf-?8$/i.test(charset)) {
        return refuse(415, `charset "${charset.slice(0, 40)}" is not supported: send UTF-8`);
      }
      const text = read.body.toString('utf8').trim();
      if (text.length === 0) {
        req.body = {};
        return next();
      }
      if (text[0] !== '{' && text[0] !== '[') {
        return refuse(400, 'the body must be a JSON object or list');
      }
      try {
        req.body = sjson.parse(text, null, { protoAction: 'remove', constructorAction: 'remove' });
      } catch (error) {
        return refuse(400, `the body is not valid JSON: ${(error as Error).message}`);
      }
      const shape = shapeProblem(req.body);
      if (shape) return refuse(400, `the JSON body ${shape}`);
      next();
    });
  };
}

function isJson(req: Request): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^[a-z]+\/[^\s/]+\+json$/.test(type);
}
