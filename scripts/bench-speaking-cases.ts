// npm run bench:speaking-cases — who is speaking on the composed check set of scripts/speaking-cases/:
// builds each set's specs (tune/, check/, and check2/, made after the method was last chosen)
// with ../shared/bench/compose.mjs into .bench-out/speaking-cases/<set>/ (once; a spec newer than
// its video is built again), then runs bench:speaking on each folder, which prints
// score-speaking.mjs's and score.mjs's summaries.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compose, repoRoot, sharedBench } from './bench-common.js';

if (!existsSync(join(sharedBench, 'compose.mjs'))) {
  console.error(`bench:speaking-cases needs ${sharedBench} (compose.mjs, clips/, score-speaking.mjs)`);
  process.exit(2);
}
let status = 0;
for (const half of ['tune', 'check', 'check2']) {
  const specs = join(repoRoot, 'scripts', 'speaking-cases', half);
  const dir = join(repoRoot, '.bench-out', 'speaking-cases', half);
  mkdirSync(dir, { recursive: true });
  for (const spec of readdirSync(specs).filter((f) => f.endsWith('.spec.json')).sort()) {
    const video = join(dir, spec.replace(/\.spec\.json$/, '.mp4'));
    if (existsSync(video) && statSync(video).mtimeMs >= statSync(join(specs, spec)).mtimeMs) continue;
    compose(join(specs, spec), video);
  }
  console.log(`== ${half}/`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'bench-speaking.ts'), dir], { stdio: 'inherit' });
  status ||= r.status ?? 1;
}
process.exit(status);
