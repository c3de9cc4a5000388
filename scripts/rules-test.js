#!/usr/bin/env node
// `npm run rules:test -- <rules.yaml|json> [cases.yaml|json]`: the offline rules tester, run
// from the build. A build takes seconds and the test milliseconds, so the project is built
// first only when the build is missing or older than its source.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'calls', 'rules', 'rules-cli.js');
const SOURCES = ['src', 'tsconfig.json', 'tsconfig.build.json'].map((name) => join(ROOT, name));

/** The newest modification time of a file, or of the built sources under a folder. */
function newestChange(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file shows only as its folder's change
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.spec.ts')) continue; // not part of the build
    newest = Math.max(newest, newestChange(join(path, entry.name)));
  }
  return newest;
}

function buildIsStale() {
  if (!existsSync(CLI)) return 'there is no build yet';
  const built = statSync(CLI).mtimeMs;
  const changed = SOURCES.find((path) => existsSync(path) && newestChange(path) > built);
  return changed && `${changed.slice(ROOT.length + 1)} changed since the last build`;
}

const stale = buildIsStale();
if (stale) {
  console.error(`rules:test: building first (${stale})`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const build = spawnSync(npm, ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('rules:test: the build failed; fix it, or run npm run build to see why');
    process.exit(build.status ?? 1);
  }
}
process.exitCode = require(CLI).runRulesCli(process.argv.slice(2), (line) => console.log(line));
