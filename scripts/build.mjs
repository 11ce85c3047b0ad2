// npm run build: compiles src/ to dist/ (tsconfig.build.json) and the client package, so the
// service runs as plain JavaScript. Built in a scratch folder, then swapped in, so dist/ is never
// half made. `--prepare` (npm's prepare step, run by npm install and by npx's first run in a
// checkout) builds only when dist/ is missing or older than the sources, and skips quietly where
// TypeScript is not installed (an install without devDependencies that ships a dist/ already).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildState, distDir, newestSourceTime, root } from '../bin/build-state.js';

/** Plain-JS modules under src/ that the compiled service loads as they are (a thread's body). */
const SOURCE_ONLY = new Set(['tasks/analysis-thread-from-source.mjs']); // tsx's launcher for source runs only

const prepare = process.argv.includes('--prepare');
if (prepare && buildState() === 'fresh') {
  console.log('build: dist/ is up to date with the sources');
  process.exit(0);
}

let tsc;
try {
  tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  if (prepare) {
    console.log('build: TypeScript is not installed (no devDependencies): dist/ left as it is');
    process.exit(0);
  }
  throw new Error('build: TypeScript is not installed: run npm install');
}

const started = Date.now();
const sourceTimeMs = newestSourceTime(); // before compiling: an edit made meanwhile leaves dist/ stale
const scratch = `${distDir}.build-${process.pid}`;
rmSync(scratch, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', scratch], { stdio: 'inherit' });
  const src = join(root, 'src');
  for (const rel of readdirSync(src, { recursive: true })) {
    if (rel.endsWith('.mjs') && !SOURCE_ONLY.has(rel.split('\\').join('/'))) cpSync(join(src, rel), join(scratch, rel));
  }
  writeFileSync(join(scratch, 'build-stamp.json'), JSON.stringify({ sourceTimeMs, builtAt: new Date().toISOString() }) + '\n');
  const old = `${distDir}.old-${process.pid}`;
  if (existsSync(distDir)) renameSync(distDir, old);
  renameSync(scratch, distDir);
  rmSync(old, { recursive: true, force: true });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

execFileSync(process.execPath, [tsc, '-p', join(root, 'client', 'tsconfig.json')], { stdio: 'inherit' });
console.log(`build: dist/ and client/dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
