import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { WEBHOOK_PATH } from '../src/webhooks/webhooks.controller';

const ROOT = join(__dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface ComposeService {
  build?: string | { context?: string; dockerfile?: string };
  image?: string;
  environment?: Record<string, string | number | null>;
  ports?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string };
  stop_grace_period?: string;
}

interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** compose.yaml as `docker compose config` reads it: anchors and merge keys resolved. */
function compose(): Compose {
  return parse(read('compose.yaml'), { merge: true }) as Compose;
}

/** The Dockerfile's runtime stage: its ENV values and EXPOSEd port, continuation lines joined. */
function dockerfile() {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const env = Object.fromEntries(
    [...runtime.matchAll(/^ENV (.*)$/gm)].flatMap((m) =>
      [...m[1].matchAll(/(\w+)=(\S+)/g)].map((kv) => [kv[1], kv[2]]),
    ),
  );
  const expose = /^EXPOSE (\d+)/m.exec(runtime)?.[1];
  const copies = [...text.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap((m) =>
    m[1].split(/\s+/),
  );
  return { env, expose: Number(expose), copies };
}

/** Every environment variable the service reads (its configuration is read in one place). */
function variablesTheServiceReads(): Set<string> {
  const source = read('src/config/switchboard.config.ts');
  return new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
}

/** The services built from this repository's Dockerfile: the Switchboard instances. */
function instances(file: Compose): [string, ComposeService][] {
  return Object.entries(file.services).filter(([, service]) => {
    const context = typeof service.build === 'string' ? service.build : service.build?.context;
    return context === '.';
  });
}

function dependsOn(service: ComposeService): Record<string, { condition?: string }> {
  const deps = service.depends_on ?? [];
  return Array.isArray(deps) ? Object.fromEntries(deps.map((name) => [name, {}])) : deps;
}

/** No Docker engine runs here: the file is checked against the Dockerfile and the service. */
describe('compose.yaml: two instances, PostgreSQL and HAProxy', () => {
  it('is valid YAML with the services a user runs, and declares the volumes it uses', () => {
    const file = compose();
    expect(instances(file).map(([name]) => name)).toEqual(['switchboard-a', 'switchboard-b']);
    expect(file.services.postgres.image).toMatch(/^postgres:\d+/);
    expect(file.services.haproxy.image).toMatch(/^haproxy:\d/);
    for (const service of Object.values(file.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (source.startsWith('.')) expect(existsSync(join(ROOT, source))).toBe(true);
        else expect(file.volumes).toHaveProperty(source);
      }
    }
  });

  it('builds each instance from the Dockerfile, whose sources the build context holds', () => {
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    for (const source of dockerfile().copies) {
      expect(existsSync(join(ROOT, source))).toBe(true);
      expect(ignored).not.toContain(source.replace(/^\.\//, ''));
    }
    const images = new Set(instances(compose()).map(([, service]) => service.image));
    expect(images.size).toBe(1); // one image, built once, run twice
  });

  it("gives each instance the same DATABASE_URL, pointing at the postgres service's database and user", () => {
    const file = compose();
    const db = file.services.postgres.environment!;
    const urls = instances(file).map(([, service]) => String(service.environment?.DATABASE_URL));
    expect(new Set(urls).size).toBe(1);
    // ${POSTGRES_PASSWORD:-switchboard}, as compose interpolates it without the variable set.
    const url = new URL(urls[0].replace(/\$\{(\w+):-([^}]*)\}/g, '$2'));
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('postgres');
    expect(url.port).toBe('5432');
    expect(url.pathname).toBe(`/${db.POSTGRES_DB}`);
    expect(url.username).toBe(db.POSTGRES_USER);
    expect(url.password).toBe(String(db.POSTGRES_PASSWORD).replace(/\$\{(\w+):-([^}]*)\}/, '$2'));
    for (const [, service] of instances(file)) {
      expect(dependsOn(service).postgres).toEqual({ condition: 'service_healthy' });
    }
  });

  it('sets only variables the service reads, on the port the Dockerfile exposes, and requires the signing secret', () => {
    const known = variablesTheServiceReads();
    const { env, expose } = dockerfile();
    expect(env.NODE_ENV).toBe('production'); // so OPENAI_WEBHOOK_SECRET is required
    for (const [, service] of instances(compose())) {
      const names = Object.keys(service.environment ?? {});
      expect(names.filter((name) => !known.has(name))).toEqual([]);
      expect(Number(service.environment?.PORT ?? env.PORT)).toBe(expose);
      expect(String(service.environment?.OPENAI_WEBHOOK_SECRET)).toMatch(
        /^\$\{OPENAI_WEBHOOK_SECRET:\?/,
      );
    }
  });

  it('checks readiness (/readyz) on the exposed port, and drains within the grace period', () => {
    const { expose } = dockerfile();
    for (const [, service] of instances(compose())) {
      const test = [service.healthcheck?.test ?? []].flat().join(' ');
      expect(test).toContain(`http://127.0.0.1:${expose}/readyz`);
      // SHUTDOWN_TIMEOUT_MS is 15 s by default: the kill must come after it.
      expect(parseInt(service.stop_grace_period ?? '10s', 10)).toBeGreaterThan(15);
    }
  });

  it('balances across every instance in HAProxy, checked by readiness, on the published port', () => {
    const file = compose();
    const haproxy = file.services.haproxy;
    const mounted = (haproxy.volumes ?? []).find((v) => v.endsWith('/haproxy.cfg:ro'));
    expect(mounted?.split(':')[0]).toBe('./deploy/haproxy.cfg');
    const cfg = read('deploy/haproxy.cfg');
    const { expose } = dockerfile();
    const servers = [...cfg.matchAll(/^\s*server \S+ ([\w-]+):(\d+) check/gm)];
    expect(servers.map((m) => m[1]).sort()).toEqual(instances(file).map(([name]) => name));
    for (const m of servers) expect(Number(m[2])).toBe(expose);
    expect(cfg).toMatch(/^\s*option httpchk GET \/readyz$/m);
    const bind = /^\s*bind :(\d+)$/m.exec(cfg)?.[1];
    expect(haproxy.ports).toContain(`${bind}:${bind}`);
    expect(Object.keys(dependsOn(haproxy)).sort()).toEqual(instances(file).map(([name]) => name));
  });

  it('resends only deliveries (deduplicated) after an answer that may mean "done"; admin actions are never sent twice', () => {
    const cfg = read('deploy/haproxy.cfg');
    expect(cfg).toMatch(/^\s*retry-on .*\b503\b/m);
    const only = /^\s*http-request disable-l7-retry unless \{ path_beg (\S+) \}$/m.exec(cfg);
    expect(only?.[1]).toBe(`/${WEBHOOK_PATH.split('/')[0]}/`);
  });

  it("matches the README's commands: the published port, the service names", () => {
    const readme = read('README.md');
    const at = readme.indexOf('### Two instances with Docker Compose');
    const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))![1];
    const file = compose();
    for (const [, port] of block.matchAll(/localhost:(\d+)/g)) {
      expect(file.services.haproxy.ports).toContain(`${port}:${port}`);
    }
    const named = [...block.matchAll(/docker compose (?:stop|restart|kill) ([\w-]+)/g)];
    expect(named.length).toBeGreaterThan(0);
    for (const [, name] of named) expect(Object.keys(file.services)).toContain(name);
    expect(block).toContain('OPENAI_WEBHOOK_SECRET=');
  });
});
