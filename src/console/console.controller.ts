import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ConsoleAsset } from './console-assets';
import { CONSOLE_ASSETS } from './console.constants';

/**
 * The page itself is public, like any sign-in page: it holds no data. Everything it shows
 * comes from the admin API and the event stream, with the token the operator signs in with.
 * Only what the page needs may load: its own scripts and styles, and its own origin's API and
 * WebSocket (no CDN, no inline script), so the console works offline and a stray script cannot
 * read the token.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** Serves the built console at /console, with the app's own routes falling back to the page. */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  constructor(@Inject(CONSOLE_ASSETS) private readonly assets: Map<string, ConsoleAsset>) {}

  @Get()
  page(@Req() req: Request, @Res() res: Response): void {
    this.send('index.html', req, res);
  }

  @Get('*path')
  file(@Req() req: Request, @Res() res: Response): void {
    const path = req.path.replace(/^\/console\/?/, '');
    if (this.assets.has(path)) return this.send(path, req, res);
    // A view's address (/console/calls/rtc_1) is the page; a missing file is a 404, not the
    // page, so a stale cached page asking for an old script fails plainly.
    if (path.startsWith('assets/') || /\.[a-z0-9]+$/i.test(path)) {
      res.status(404).type('text/plain').send(`no console file ${path}`);
      return;
    }
    this.send('index.html', req, res);
  }

  private send(key: string, req: Request, res: Response): void {
    const asset = this.assets.get(key);
    if (!asset) {
      res
        .status(503)
        .type('text/plain')
        .send('the console is not built: run `npm run build` (it writes dist/console/static)');
      return;
    }
    res.set(SECURITY_HEADERS);
    res.set({
      'Content-Type': asset.type,
      ETag: asset.etag,
      'Cache-Control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      Vary: 'Accept-Encoding',
    });
    if (req.headers['if-none-match'] === asset.etag) {
      res.status(304).end();
      return;
    }
    const gzip = asset.gzipped && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (gzip) res.set('Content-Encoding', 'gzip');
    res.status(200).end(req.method === 'HEAD' ? undefined : gzip ? asset.gzipped : asset.body);
  }
}
