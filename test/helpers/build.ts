import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildState, root } from '../../bin/build-state.js';

/** `--import` this to make a process (and its worker threads) fail on loading tsx or any .ts file. */
export const noTsx = join(root, 'test', 'helpers', 'no-tsx.mjs');

/** Builds dist/ and client/dist/ (npm run build) unless they match the sources already, as after npm install. */
export async function ensureBuilt(): Promise<void> {
  if (buildState() === 'fresh') return;
  await promisify(execFile)(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, timeout: 600_000 });
}
