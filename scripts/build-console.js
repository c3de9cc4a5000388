#!/usr/bin/env node
// Builds the call console (console/) into dist/console/static: one script and one style sheet,
// minified, named by a hash of their content (so they can be cached for a year), and the page
// that loads them. esbuild bundles Preact with our code; nothing is fetched at run time.
//   node scripts/build-console.js [--out DIR]
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const esbuild = require('esbuild');

const root = join(__dirname, '..');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? process.argv[outArg + 1] : join(root, 'dist', 'console', 'static');

async function main() {
  const result = await esbuild.build({
    entryPoints: [join(root, 'console', 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    tsconfig: join(root, 'console', 'tsconfig.json'),
    legalComments: 'none',
    write: false,
    outdir: 'out',
    logLevel: 'warning',
  });
  const named = (ext) => {
    const file = result.outputFiles.find((output) => output.path.endsWith(ext));
    const hash = createHash('sha256').update(file.contents).digest('hex').slice(0, 10);
    return { name: `assets/console-${hash}${ext}`, contents: file.contents };
  };
  const script = named('.js');
  const style = named('.css');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  writeFileSync(join(out, script.name), script.contents);
  writeFileSync(join(out, style.name), style.contents);
  const page = readFileSync(join(root, 'console', 'index.html'), 'utf8')
    .replace('%SCRIPT%', `/console/${script.name}`)
    .replace('%STYLE%', `/console/${style.name}`);
  writeFileSync(join(out, 'index.html'), page);
  // On stderr: stdout is the caller's (`npm pack --json` runs `prepare`, and so this, into it).
  console.error(
    `console: ${script.name} (${script.contents.length} bytes), ${style.name} (${style.contents.length} bytes) in ${out}`,
  );
}

main().catch((error) => {
  console.error(`console build failed: ${error.message}`);
  process.exit(1);
});
