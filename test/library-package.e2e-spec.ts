import { ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, sep } from 'node:path';
import { FakeOpenAI } from './support/fake-openai';
import { LocalRegistry } from './support/local-registry';
import { sampleEvent } from './support/sample-events';
import { deliverTo, ringingCall } from './support/service-process';
import { signDelivery, TEST_SECRET } from './support/signing';
import { TestStreamClient } from './support/stream-client';
import { eventually } from './support/test-app';

const ROOT = join(__dirname, '..');
const FIXTURE = join(__dirname, 'fixtures', 'library-app');
/** What a fresh clone does not have (the .gitignore'd build output and local state). */
const NOT_IN_A_CLONE = new Set(['.git', 'node_modules', 'dist', 'dist-bench', 'data', 'coverage']);
const ADMIN_TOKEN = 'library-app-admin-token';

interface PackedFile {
  path: string;
}

/**
 * The README's install section, as a user does it: `npm pack` in a fresh clone (its `prepare`
 * builds), then `npm install` of the tarball into an existing Nest app. That app is on another
 * Nest 11 minor (11.0) and class-validator minor (0.14) than the project (the `test-host-*`
 * development aliases in package.json bring those versions). No registry is needed: npm installs
 * from a registry on loopback that serves the packages already installed here.
 */
describe('the packed library, installed into a Nest app on another Nest 11 minor', () => {
  let work: string;
  let registry: LocalRegistry;
  let packedFiles: string[];
  let app: string;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'switchboard-library-'));
    registry = await LocalRegistry.start(join(ROOT, 'node_modules'));
    const { tarball, files } = await packFreshClone(join(work, 'clone'), work);
    packedFiles = files;
    app = join(work, 'nest-app');
    await createHostApp(app, registry, work);
    await npm(app, ['install', ...registryFlags(registry, work), tarball]);
    await run(app, process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc')]);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(running.map(stop));
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs the build, the service command, the example rules, README and licence only', () => {
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/main.js',
      'dist/console/console.module.js',
      'dist/console/static/index.html',
      'bin/switchboard.js',
      'rules/example.yaml',
    ]) {
      expect(packedFiles).toContain(file);
    }
    const unexpected = packedFiles.filter(
      (file) =>
        !/^(dist|bin|rules)\//.test(file) &&
        !['package.json', 'README.md', 'LICENSE'].includes(file),
    );
    expect(unexpected).toEqual([]);
    expect(packedFiles.filter((file) => /\.spec\.|^dist\/.*\.tsbuildinfo$/.test(file))).toEqual([]);
  });

  it('ships source maps that carry their sources, since src/ is not in the package', () => {
    const installed = join(app, 'node_modules', '@switchboard-voice', 'switchboard');
    const map = readJson(join(installed, 'dist', 'index.js.map')) as { sourcesContent?: string[] };
    expect(map.sourcesContent?.[0]).toContain('export { WebhooksModule }');
  });

  it("uses the app's own framework packages: one copy each, at the app's versions", () => {
    const installed = (name: string) => findInstalled(join(app, 'node_modules'), name);
    const host = hostAppDependencies();
    for (const name of ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express']) {
      expect(installed(name)).toEqual([host[name]]);
    }
    expect(host['@nestjs/core']).toMatch(/^11\.0\./);
    expect(installed('class-validator')).toEqual([host['class-validator']]);
    for (const name of ['class-transformer', 'reflect-metadata', 'rxjs']) {
      expect(installed(name)).toHaveLength(1);
    }
  });

  it("hands a signed event to the app's own handler as the exported DTO class", async () => {
    const host = await startHostApp(app, { DATA_DIR: join(work, 'data-minimal') }, running);
    const event = sampleEvent('batch.completed');
    expect(await deliverTo(host.port, signDelivery(JSON.stringify(event)))).toBe(200);
    await eventually(() => {
      expect(host.handled()).toEqual([
        {
          type: 'batch.completed',
          batch: event.data.id,
          instanceOfExportedClass: true,
          attempt: 1,
        },
      ]);
    }, 10_000);
    // The console is opt-in: this app does not import ConsoleModule.
    expect((await fetch(`http://127.0.0.1:${host.port}/console`)).status).toBe(404);
  }, 60_000);

  it('routes a call through CallsModule and streams it through EventStreamModule', async () => {
    const openai = await FakeOpenAI.start();
    try {
      const host = await startHostApp(
        app,
        {
          DATA_DIR: join(work, 'data-calls'),
          WITH_CALLS_AND_STREAM: 'true',
          RULES_FILE: join(app, 'rules.yaml'),
          OPENAI_API_KEY: 'sk-library-app',
          OPENAI_BASE_URL: openai.baseURL,
          ADMIN_TOKEN,
        },
        running,
      );
      const stream = await TestStreamClient.connect(
        `ws://127.0.0.1:${host.port}/events`,
        ADMIN_TOKEN,
      );
      try {
        stream.send({ op: 'subscribe', types: ['call.*'] });
        await eventually(() => expect(stream.messages.map((m) => m.type)).toContain('caught_up'));

        const callId = 'rtc_library_app_1';
        expect(await deliverTo(host.port, ringingCall(callId))).toBe(200);
        const [accept] = await openai.waitForRequests(1, 10_000);
        expect(accept.path).toBe(`/v1/realtime/calls/${callId}/accept`);
        expect(accept.body).toMatchObject({ model: 'gpt-realtime' });
        await eventually(() => {
          const types = stream.events().map((m) => `${m.event!.type} ${m.event!.data.call_id}`);
          expect(types).toEqual(
            expect.arrayContaining([`call.routed ${callId}`, `call.accepted ${callId}`]),
          );
        }, 10_000);

        // ConsoleModule serves the console built into the installed package.
        const page = await fetch(`http://127.0.0.1:${host.port}/console/calls/${callId}`);
        expect(page.status).toBe(200);
        const html = await page.text();
        expect(html).toContain('<div id="app">');
        const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1];
        expect((await fetch(`http://127.0.0.1:${host.port}${script}`)).status).toBe(200);

        const event = sampleEvent('batch.completed');
        expect(await deliverTo(host.port, signDelivery(JSON.stringify(event)))).toBe(200);
        await eventually(() => {
          expect(host.handled()).toMatchObject([
            { batch: event.data.id, instanceOfExportedClass: true },
          ]);
        }, 10_000);

        // The app's @CallTool, found, described and run on its own class-validator (0.14).
        await eventually(() => expect(host.tools()).toBeDefined(), 10_000);
        expect(host.tools()).toEqual({
          declarations: [
            {
              type: 'function',
              name: 'lookup_order',
              description: 'Finds an order by its number',
              parameters: {
                type: 'object',
                properties: {
                  order_id: {
                    description: 'The order number, e.g. A1234',
                    type: 'string',
                    pattern: '^A\\d{4}$',
                  },
                },
                required: ['order_id'],
                additionalProperties: false,
              },
            },
            expect.objectContaining({ type: 'function', name: 'end_call' }),
          ],
          ok: {
            outcome: 'ok',
            output: '{"order_id":"A1234","status":"shipped","call":"rtc_tools"}',
            duration_ms: expect.any(Number),
          },
          invalid: {
            outcome: 'invalid_arguments',
            output: JSON.stringify({
              error: 'invalid_arguments',
              problems: ['order_id must match /^A\\d{4}$/ regular expression'],
            }),
            duration_ms: expect.any(Number),
          },
        });
      } finally {
        stream.close();
      }
    } finally {
      await openai.stop();
    }
  }, 60_000);

  it('runs the service from the installed `switchboard` command', async () => {
    const command = join(app, 'node_modules', '.bin', 'switchboard');
    const child = spawn(command, [], {
      cwd: app,
      env: {
        ...cleanEnv(),
        NODE_ENV: 'production',
        NO_COLOR: '1',
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: join(work, 'data-service'),
        OPENAI_WEBHOOK_SECRET: TEST_SECRET,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push(child);
    const output = collect(child);
    const [, port] = await waitFor(output, /listening on http:\/\/localhost:(\d+)/, child);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const delivery = ringingCall('rtc_library_service_1');
    expect(await deliverTo(Number(port), delivery)).toBe(200);
  }, 60_000);
});

/** A copy of the project as a clone has it, packed by npm; `prepare` builds `dist/` first. */
async function packFreshClone(
  clone: string,
  destination: string,
): Promise<{ tarball: string; files: string[] }> {
  cpSync(ROOT, clone, {
    recursive: true,
    filter: (source) => !NOT_IN_A_CLONE.has(relative(ROOT, source).split(sep)[0]),
  });
  // The clone's `npm ci` would install the same packages: they are linked instead.
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
  const stdout = await npm(clone, ['pack', '--json', '--pack-destination', destination]);
  const [packed] = JSON.parse(stdout) as { filename: string; files: PackedFile[] }[];
  return {
    tarball: join(destination, packed.filename),
    files: packed.files.map((file) => file.path),
  };
}

/**
 * The packages the host app owns. Nest and class-validator come at the versions of the
 * `test-host-*` aliases; the rest at the project's own ranges.
 */
function hostAppDependencies(): Record<string, string> {
  const project = readJson(join(ROOT, 'package.json')) as {
    devDependencies: Record<string, string>;
  };
  const dependencies: Record<string, string> = {};
  for (const [alias, spec] of Object.entries(project.devDependencies)) {
    const aliased = /^npm:(@?[^@]+)@(.+)$/.exec(spec);
    if (alias.startsWith('test-host-') && aliased) dependencies[aliased[1]] = aliased[2];
  }
  for (const name of ['class-transformer', 'reflect-metadata', 'rxjs']) {
    dependencies[name] = project.devDependencies[name];
  }
  return dependencies;
}

/** An existing Nest app (the fixture's sources), with its dependencies installed. */
async function createHostApp(dir: string, registry: LocalRegistry, work: string): Promise<void> {
  const project = readJson(join(ROOT, 'package.json')) as {
    devDependencies: Record<string, string>;
  };
  cpSync(FIXTURE, dir, { recursive: true });
  const manifest = {
    name: 'nest-host-app',
    version: '1.0.0',
    private: true,
    dependencies: hostAppDependencies(),
    devDependencies: {
      '@types/node': project.devDependencies['@types/node'],
      typescript: project.devDependencies.typescript,
    },
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  await npm(dir, ['install', ...registryFlags(registry, work)]);
}

/**
 * npm against the loopback registry only: a private cache and an empty user config, so nothing
 * from this machine's npm setup (a cache, a mirror, tokens) takes part. Install scripts are
 * skipped: better-sqlite3 arrives built (see LocalRegistry).
 */
function registryFlags(registry: LocalRegistry, work: string): string[] {
  const userConfig = join(work, 'npmrc');
  if (!existsSync(userConfig)) writeFileSync(userConfig, '');
  return [
    `--registry=${registry.url}`,
    `--cache=${join(work, 'npm-cache')}`,
    `--userconfig=${userConfig}`,
    '--ignore-scripts',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
  ];
}

/** This process's environment without the `npm_*` variables of the `npm test` around it. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)),
  );
  // `node` and `npm` (a node script) run on the Node that runs the tests.
  env.PATH = [dirname(process.execPath), env.PATH].join(delimiter);
  return env;
}

function npm(cwd: string, args: string[]): Promise<string> {
  return run(cwd, 'npm', args);
}

function run(cwd: string, command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env: cleanEnv(), timeout: 150_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stderr}${stdout}`));
        } else resolve(stdout);
      },
    );
  });
}

interface HostApp {
  port: number;
  /** What the app's handler reported, in order. */
  handled(): Record<string, unknown>[];
  /** What the app reported of its call tools (with calls on), once it has. */
  tools(): Record<string, unknown> | undefined;
}

/** The compiled host app in a child process, as `node dist/main.js`. */
async function startHostApp(
  dir: string,
  env: Record<string, string>,
  running: ChildProcess[],
): Promise<HostApp> {
  const child = spawn(process.execPath, [join(dir, 'dist', 'main.js')], {
    cwd: dir,
    env: { ...cleanEnv(), PORT: '0', OPENAI_WEBHOOK_SECRET: TEST_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const output = collect(child);
  const [, port] = await waitFor(output, /listening on port (\d+)/, child);
  return {
    port: Number(port),
    handled: () =>
      [...output.text.matchAll(/^handled (.*)$/gm)].map(
        (line) => JSON.parse(line[1]) as Record<string, unknown>,
      ),
    tools: () => {
      const line = /^tools (.*)$/m.exec(output.text);
      return line ? (JSON.parse(line[1]) as Record<string, unknown>) : undefined;
    },
  };
}

/** Ends a child process and waits until it is gone (its files can then be removed). */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function collect(child: ChildProcess): { text: string } {
  const output = { text: '' };
  child.stdout!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
  return output;
}

/** Waits for a line of output; fails with the whole output if the process exits first. */
async function waitFor(
  output: { text: string },
  pattern: RegExp,
  child: ChildProcess,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = pattern.exec(output.text);
    if (match) return match;
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no ${pattern} from the app; its output:\n${output.text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The versions of a package installed anywhere under a node_modules folder. */
function findInstalled(nodeModules: string, name: string): string[] {
  const versions: string[] = [];
  const manifest = join(nodeModules, name, 'package.json');
  if (existsSync(manifest)) versions.push((readJson(manifest) as { version: string }).version);
  for (const entry of readdirSync(nodeModules)) {
    const dirs = entry.startsWith('@')
      ? readdirSync(join(nodeModules, entry)).map((child) => join(nodeModules, entry, child))
      : [join(nodeModules, entry)];
    for (const dir of dirs) {
      if (existsSync(join(dir, 'node_modules'))) {
        versions.push(...findInstalled(join(dir, 'node_modules'), name));
      }
    }
  }
  return versions;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}
