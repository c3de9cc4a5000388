import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One built file of the console, held in memory with what its response needs. */
export interface ConsoleAsset {
  body: Buffer;
  /** The same bytes gzipped, when that is smaller; sent to clients that accept gzip. */
  gzipped?: Buffer;
  type: string;
  etag: string;
  /** Hashed names never change content: cached for a year; index.html is revalidated. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Where `npm run build` writes the console: beside the compiled module (`dist/console/static`),
 * or, when the module runs from its TypeScript source (tests), in the project's dist/.
 */
export function defaultAssetsDir(): string {
  const candidates = [
    join(__dirname, 'static'),
    join(__dirname, '..', '..', 'dist', 'console', 'static'),
  ];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0];
}

/**
 * Reads the built console once at start-up. It is a few files of some tens of kilobytes, so
 * they are served from memory, pre-compressed, with strong ETags: no disk access per request
 * and no path from a URL ever reaches the file system.
 */
export function loadConsoleAssets(dir: string): Map<string, ConsoleAsset> {
  const assets = new Map<string, ConsoleAsset>();
  if (!existsSync(join(dir, 'index.html'))) return assets;
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const key = relative(dir, path).split(sep).join('/');
      const body = readFileSync(path);
      const gzipped = gzipSync(body, { level: 9 });
      assets.set(key, {
        body,
        gzipped: gzipped.length < body.length ? gzipped : undefined,
        type: TYPES[extname(name)] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        immutable: key.startsWith('assets/'),
      });
    }
  };
  walk(dir);
  return assets;
}
