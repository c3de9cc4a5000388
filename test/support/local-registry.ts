import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { create as createTarball } from 'tar';

interface InstalledPackage {
  dir: string;
  manifest: Record<string, unknown>;
}

/**
 * An npm registry on loopback that serves the packages installed under a `node_modules` folder,
 * each exactly as installed: a test can run a real `npm install` into a fresh app with no
 * network and no npm cache. Every version found anywhere in the tree is served (aliased
 * packages, such as `test-host-nestjs-core`, under their real name), so an app can ask for a
 * version the project itself does not use. Tarballs hold the installed files, native builds
 * included: install with `--ignore-scripts`, or better-sqlite3 would compile itself again.
 */
export class LocalRegistry {
  /** Every request that named a package nobody installed (optional peers, mostly). */
  readonly missing: string[] = [];
  private readonly packages = new Map<string, Map<string, InstalledPackage>>();
  private server!: Server;

  private constructor(nodeModules: string) {
    this.index(nodeModules);
  }

  static async start(nodeModules: string): Promise<LocalRegistry> {
    const registry = new LocalRegistry(nodeModules);
    registry.server = createServer((req, res) => registry.handle(req, res));
    await new Promise<void>((resolve) => registry.server.listen(0, '127.0.0.1', resolve));
    return registry;
  }

  /** The value for npm's `--registry`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  versionsOf(name: string): string[] {
    return [...(this.packages.get(name)?.keys() ?? [])];
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private index(nodeModules: string): void {
    for (const entry of readdirSync(nodeModules)) {
      if (entry.startsWith('.')) continue;
      const dirs = entry.startsWith('@')
        ? readdirSync(join(nodeModules, entry)).map((name) => join(nodeModules, entry, name))
        : [join(nodeModules, entry)];
      for (const dir of dirs) {
        const file = join(dir, 'package.json');
        if (!existsSync(file)) continue;
        const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        const { name, version } = manifest as { name?: string; version?: string };
        if (name && version) {
          if (!this.packages.has(name)) this.packages.set(name, new Map());
          this.packages.get(name)!.set(version, { dir, manifest });
        }
        if (existsSync(join(dir, 'node_modules'))) this.index(join(dir, 'node_modules'));
      }
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const tarball = /^\/-\/tarballs\/(.+)\/([^/]+)\.tgz$/.exec(path);
    if (tarball) return this.sendTarball(res, tarball[1], tarball[2]);
    const name = path.slice(1);
    const versions = this.packages.get(name);
    if (!versions) {
      this.missing.push(name);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(this.packument(name, versions)));
  }

  /** The registry's document for one package: every installed version's manifest. */
  private packument(name: string, versions: Map<string, InstalledPackage>) {
    const manifests: Record<string, unknown> = {};
    for (const [version, { manifest }] of versions) {
      // Fields npm wrote into old installs (`_resolved`, `_integrity`...) are not the author's.
      const published = Object.fromEntries(
        Object.entries(manifest).filter(([key]) => !key.startsWith('_')),
      );
      manifests[version] = {
        ...published,
        _id: `${name}@${version}`,
        dist: { tarball: `${this.url}-/tarballs/${encodeURIComponent(name)}/${version}.tgz` },
      };
    }
    const latest = [...versions.keys()].sort((a, b) =>
      a.localeCompare(b, undefined, { numeric: true }),
    );
    return { _id: name, name, 'dist-tags': { latest: latest.at(-1) }, versions: manifests };
  }

  private sendTarball(res: ServerResponse, name: string, version: string): void {
    const installed = this.packages.get(name)?.get(version);
    if (!installed) {
      res.writeHead(404).end();
      return;
    }
    // Nested node_modules are packages of their own, served separately.
    const files = readdirSync(installed.dir).filter((file) => file !== 'node_modules');
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    createTarball(
      { cwd: installed.dir, prefix: 'package', gzip: { level: 1 }, portable: true },
      files,
    )
      .on('error', () => res.destroy())
      .pipe(res);
  }
}
