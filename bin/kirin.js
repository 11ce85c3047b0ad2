#!/usr/bin/env node
// Runs the compiled service, dist/ (`npm run build`; `npm install` builds it in `prepare`).
// In a development checkout whose src/ changed since the last build, it runs the sources through
// tsx instead (a devDependency), so a stale dist/ never runs; KIRIN_RUN=dist|source forces one.
import { buildState } from './build-state.js';

const choice = process.env.KIRIN_RUN ?? '';
const state = choice === 'dist' ? 'fresh' : choice === 'source' ? 'stale' : buildState();

if (state === 'fresh') {
  await import('../dist/cli/main.js');
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    // no tsx (installed without devDependencies): run what was built, or say how to build it
  }
  if (register) {
    if (process.stderr.isTTY && !choice) process.stderr.write(`kirin: dist/ is ${state}: running src/ through tsx (npm run build makes it start faster)\n`);
    register();
    await import('../src/cli/main.ts');
  } else if (choice === 'source') {
    process.stderr.write('kirin: KIRIN_RUN=source needs tsx (npm install with devDependencies)\n');
    process.exit(1);
  } else if (state === 'stale') {
    process.stderr.write('kirin: warning: dist/ is older than src/; run `npm run build`\n');
    await import('../dist/cli/main.js');
  } else {
    process.stderr.write('kirin: dist/ is missing: run `npm run build` (it needs the devDependencies: npm install)\n');
    process.exit(1);
  }
}
