// npm run bench:accuracy [DIR] — runs `kirin identify` on every video of DIR (default
// ../shared/bench/public), saves the results in .bench-out/accuracy, and prints the summary
// of the benchmark's score.mjs (which lives next to DIR).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const dir = resolve(process.argv[2] ?? join(root, '..', 'shared', 'bench', 'public'));
const scorer = [join(dir, '..', 'score.mjs'), join(root, '..', 'shared', 'bench', 'score.mjs')].find((p) => existsSync(p));
if (!existsSync(dir) || !scorer) {
  console.error(`bench:accuracy needs the benchmark folder (${dir}) and its score.mjs`);
  process.exit(2);
}
const out = join(root, '.bench-out', 'accuracy');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'images'), { recursive: true });

const videos = readdirSync(dir).filter((f) => /\.(mp4|mov)$/i.test(f)).sort();
let totalMs = 0;
for (const v of videos) {
  const name = v.replace(/\.(mp4|mov)$/i, '');
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
const score = spawnSync(process.execPath, [scorer, dir, out], { encoding: 'utf8' });
process.stdout.write(score.stdout);
process.stderr.write(score.stderr);
process.exit(score.status ?? 1);
