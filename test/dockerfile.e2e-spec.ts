import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile as instructions, continuation lines joined, comments dropped. */
function instructions(): { stage: string; instruction: Instruction }[] {
  const text = readFileSync(join(__dirname, '..', 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const result: { stage: string; instruction: Instruction }[] = [];
  let stage = '';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const [keyword, ...rest] = trimmed.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') stage = /\bAS\s+(\S+)/i.exec(instruction.args)?.[1] ?? '';
    result.push({ stage, instruction });
  }
  return result;
}

function packageJson(): { engines: { node: string }; peerDependencies: Record<string, string> } {
  return JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
}

/** Whether an `engines.node` range such as `^20.0.0 || >=24.0.0` admits a Node major. */
function supportsNodeMajor(range: string, major: number): boolean {
  return range.split('||').some((part) => {
    const [, operator, least] = /^\s*(\^|>=)?\s*(\d+)/.exec(part) ?? [];
    return operator === '>=' ? major >= Number(least) : major === Number(least);
  });
}

const inStage = (stage: string, keyword: string) =>
  instructions()
    .filter((i) => i.stage === stage && i.instruction.keyword === keyword)
    .map((i) => i.instruction.args);

// No Docker engine runs here, so the image's recipe is checked instruction by instruction;
// scripts/build-like-docker.sh runs the same build steps outside Docker.
describe('Dockerfile', () => {
  it('has a build stage with the native toolchain and a slim runtime stage on Node 24', () => {
    expect(inStage('build', 'FROM')).toEqual(['node:24.18.1-bookworm AS build']);
    expect(inStage('runtime', 'FROM')).toEqual(['node:24-bookworm-slim AS runtime']);
    expect(inStage('build', 'RUN').join(' ')).toMatch(/python3 make g\+\+/);
    expect(inStage('build', 'RUN').join(' ')).toContain('npm ci');
  });

  it('builds and runs on one Node line, one that the package supports', () => {
    const major = (stage: string) => Number(/^node:(\d+)[.-]/.exec(inStage(stage, 'FROM')[0])?.[1]);
    expect(major('build')).toBe(major('runtime'));
    expect(supportsNodeMajor(packageJson().engines.node, major('build'))).toBe(true);
  });

  it('compiles better-sqlite3 against Node 24 headers from before 24.19', () => {
    // From 24.19 on, node::ObjectWrap's inline destructor removes an environment cleanup hook and
    // aborts when better-sqlite3 12 frees a statement outside a JS context (nodejs/node#65446).
    const [major, minor] = /^node:(\d+)\.(\d+)\.\d+-/
      .exec(inStage('build', 'FROM')[0])!
      .slice(1)
      .map(Number);
    expect(major).toBe(24);
    expect(minor).toBeLessThanOrEqual(18);
  });

  it('keeps the framework packages (peer dependencies) through the production prune', () => {
    // They are peer and development dependencies, so that a host app brings its own; the image
    // needs them too. `npm prune --omit=dev` removes what the lockfile marks as dev-only.
    const lock = JSON.parse(readFileSync(join(__dirname, '..', 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const pruned = Object.keys(packageJson().peerDependencies).filter((name) => {
      const entry = lock.packages[`node_modules/${name}`];
      return !entry || entry.dev === true;
    });
    expect(pruned).toEqual([]);
  });

  it('installs before the sources arrive: no package scripts then, better-sqlite3 built explicitly', () => {
    const runs = inStage('build', 'RUN');
    const install = runs.findIndex((run) => run.includes('npm ci'));
    expect(runs[install]).toMatch(/npm ci [^&]*--ignore-scripts/);
    expect(runs[install]).toContain('npm rebuild better-sqlite3');
    const steps = instructions().filter((i) => i.stage === 'build');
    const sourcesAt = steps.findIndex((i) => i.instruction.args.startsWith('src '));
    const installAt = steps.findIndex((i) => i.instruction.args.includes('npm ci'));
    expect(installAt).toBeLessThan(sourcesAt);
  });

  it('ships production dependencies only, built in the image for its own platform', () => {
    expect(inStage('build', 'RUN').join(' ')).toContain('npm prune --omit=dev');
    const copies = inStage('runtime', 'COPY').join('\n');
    expect(copies).toContain('--from=build --chown=node:node /app/node_modules ./node_modules');
    expect(copies).toContain('--from=build --chown=node:node /app/dist ./dist');
    expect(copies).not.toMatch(/\btest\b|\bbench\b|\bsrc\b/);
  });

  it('runs as a non-root user with DATA_DIR on a volume', () => {
    expect(inStage('runtime', 'USER')).toEqual(['node']);
    expect(inStage('runtime', 'VOLUME')).toEqual(['["/data"]']);
    expect(inStage('runtime', 'ENV').join(' ')).toMatch(/DATA_DIR=\/data/);
    expect(inStage('runtime', 'ENV').join(' ')).toMatch(/NODE_ENV=production/);
  });

  it('exposes the port, checks /healthz and starts the service', () => {
    expect(inStage('runtime', 'EXPOSE')).toEqual(['3000']);
    const [healthcheck] = inStage('runtime', 'HEALTHCHECK');
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).toMatch(/--interval=\S+ --timeout=\S+/);
    expect(inStage('runtime', 'CMD')).toEqual(['["node", "dist/main.js"]']);
  });
});
