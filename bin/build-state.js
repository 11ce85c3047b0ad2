// Whether dist/ (the compiled service, made by `npm run build`, with client/dist/) matches the
// sources: the build writes the newest modification time it saw under src/ and client/src/ into
// dist/build-stamp.json, and a later edit, added or removed file (a folder's time changes too)
// makes the stamp older than the sources.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const distDir = join(root, 'dist');
export const stampFile = join(distDir, 'build-stamp.json');
/** The source folders the build compiles: the service's and the client package's. */
const sourceDirs = [join(root, 'src'), join(root, 'client', 'src')];
/** Besides those: the files whose change changes the build. */
const buildInputs = ['tsconfig.build.json', 'tsconfig.json', 'client/tsconfig.json'].map((f) => join(root, f));

/** The newest modification time (ms) of the sources (their files and folders) and the build's settings. */
export function newestSourceTime() {
  let newest = 0;
  for (const dir of sourceDirs) {
    newest = Math.max(newest, statSync(dir).mtimeMs);
    for (const rel of readdirSync(dir, { recursive: true })) newest = Math.max(newest, statSync(join(dir, rel)).mtimeMs);
  }
  for (const file of buildInputs) newest = Math.max(newest, statSync(file).mtimeMs);
  return newest;
}

/** 'fresh' (dist/ was built from the sources as they are), 'stale', or 'missing'. A checkout without src/ (an installed package) counts its dist/ as fresh. */
export function buildState() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return 'missing';
  }
  let newest;
  try {
    newest = newestSourceTime();
  } catch {
    return 'fresh';
  }
  return newest <= stamp.sourceTimeMs ? 'fresh' : 'stale';
}
