// npm run bench:accuracy [DIR] — runs `kirin identify` on every video of DIR (default
// ../shared/bench/public), saves the results in .bench-out/accuracy-<folder>, and prints the summary
// of the benchmark's score.mjs (which lives next to DIR).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { baseName, benchSet, repoRoot as root } from './bench-common.js';

const run = promisify(execFile);
const { dir, out, videos, score } = benchSet('accuracy', process.argv[2]);
mkdirSync(join(out, 'images'), { recursive: true });

let totalMs = 0;
for (const v of videos) {
  const name = baseName(v);
  const t0 = performance.now();
  let stdout = '';
  try {
    ({ stdout } = await run(process.execPath, [join(root, 'bin', 'kirin.js'), 'identify', join(dir, v), '--out', join(out, 'images')], { maxBuffer: 64 << 20 }));
  } catch (e) {
    stdout = (e as { stdout?: string }).stdout ?? '';
  }
  const ms = performance.now() - t0;
  totalMs += ms;
  writeFileSync(join(out, `${name}.json`), stdout);
  let summary = stdout.trim().slice(0, 200);
  try {
    const r = JSON.parse(stdout);
    summary = r.error ? `error ${r.error.code}` : r.data.face_data.map((f: { face_id: string; start_time: number; end_time: number }) => `${f.face_id}:${f.start_time}-${f.end_time}`).join(' ') || '(no faces)';
  } catch { /* keep raw text */ }
  console.log(`${basename(v)} ${(ms / 1000).toFixed(1)} s  ${summary}`);
}
console.log(`analysed ${videos.length} videos in ${(totalMs / 1000).toFixed(1)} s`);
process.exit(score());
