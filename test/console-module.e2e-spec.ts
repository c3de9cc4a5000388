import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { ConsoleModule } from '../src/console/console.module';

const STATIC = join(__dirname, '..', 'dist', 'console', 'static');
/** The first load's budget: every script and style sheet the page loads, gzipped. */
const FIRST_LOAD_BUDGET = 150 * 1024;

/** The scripts and style sheets the built page loads at once. */
function firstLoad(): string[] {
  const page = readFileSync(join(STATIC, 'index.html'), 'utf8');
  return [...page.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+)"/g)].map((match) => match[1]);
}

describe('the built console', () => {
  it('loads under 150 KB of gzipped JavaScript and CSS at first, all from its own assets', () => {
    const files = firstLoad();
    expect(files.some((file) => file.endsWith('.js'))).toBe(true);
    expect(files.some((file) => file.endsWith('.css'))).toBe(true);
    const sizes = files.map(
      (file) => gzipSync(readFileSync(join(STATIC, file)), { level: 9 }).length,
    );
    const total = sizes.reduce((sum, size) => sum + size, 0);
    expect(total).toBeLessThan(FIRST_LOAD_BUDGET);
    // Offline: the page names no other origin (no CDN, no web font).
    const page = readFileSync(join(STATIC, 'index.html'), 'utf8');
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const file of readdirSync(join(STATIC, 'assets'))) {
      expect(readFileSync(join(STATIC, 'assets', file), 'utf8')).not.toMatch(
        /https?:\/\/(?!www\.w3\.org)/,
      );
    }
  });
});

describe('ConsoleModule in an app of its own', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ConsoleModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(() => app.close());

  it('serves the page at /console, revalidated on each visit, with a strict CSP', async () => {
    const response = await request(app.getHttpServer()).get('/console').expect(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.text).toContain('<div id="app">');
    const etag = response.headers.etag;
    await request(app.getHttpServer()).get('/console').set('If-None-Match', etag).expect(304);
  });

  it('serves the hashed assets for a year, gzipped when the client takes gzip', async () => {
    const [script] = firstLoad().filter((file) => file.endsWith('.js'));
    const plain = await request(app.getHttpServer())
      .get(`/console/${script}`)
      .set('Accept-Encoding', 'identity')
      .expect(200);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const gzipped = await request(app.getHttpServer())
      .get(`/console/${script}`)
      .set('Accept-Encoding', 'gzip, br')
      .expect(200);
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toBe('Accept-Encoding');
    expect(gzipped.text).toBe(plain.text);
  });

  it("answers the app's own addresses with the page, and a missing file with 404", async () => {
    for (const path of [
      '/console/',
      '/console/calls',
      '/console/calls/rtc_123',
      '/console/rules',
    ]) {
      const response = await request(app.getHttpServer()).get(path).expect(200);
      expect(response.text).toContain('<div id="app">');
    }
    await request(app.getHttpServer()).get('/console/assets/console-0000000000.js').expect(404);
    await request(app.getHttpServer()).get('/console/favicon.ico').expect(404);
    await request(app.getHttpServer()).get('/console/..%2f..%2fpackage.json').expect(404);
  });
});

describe('ConsoleModule without a built console', () => {
  it('says how to build it, on every console address', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'switchboard-console-none-'));
    const moduleRef = await Test.createTestingModule({
      imports: [ConsoleModule.forRoot({ assetsDir: empty })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      for (const path of ['/console', '/console/calls']) {
        const response = await request(app.getHttpServer()).get(path).expect(503);
        expect(response.text).toContain('npm run build');
      }
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
