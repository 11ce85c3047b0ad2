// npm run bench:speaking [DIR] — runs `kirin identify` on every video of DIR (default
// ../shared/bench/speaking), saves the results in .bench-out/speaking-<folder>, and prints the summaries
// of the benchmark's score-speaking.mjs (who speaks when) and score.mjs (faces and intervals).
// With the default folder it also runs the real single-speaker clips with sound (real/r10,
// r14, r17) and prints the share of their voiced time that is marked speaking.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { baseName, benchSet, benchTool, repoRoot as root, sharedBench, type Span } from './bench-common.js';

const run = promisify(execFile);
const { dir, out, videos, score } = benchSet('speaking', process.argv[2] ?? join(sharedBench, 'speaking'));

interface Result { data: { face_data: { face_id: string; start_time: number; end_time: number; speaking?: Span[] }[]; rejected_faces: { speaking?: Span[] }[]; audio?: { present: boolean; speech: Span[] } } }

async function identify(video: string, outDir: string): Promise<Result | undefined> {
  mkdirSync(join(outDir, 'images'), { recursive: true });
  let stdout = '';
  try {
    ({ stdout } = await run(process.execPath, [join(root, 'bin', 'kirin.js'), 'identify', video, '--out', join(outDir, 'images')], { maxBuffer: 64 << 20 }));
  } catch (e) {
    stdout = (e as { stdout?: string }).stdout ?? '';
  }
  writeFileSync(join(outDir, `${baseName(video.split('/').pop()!)}.json`), stdout);
  try {
    const r = JSON.parse(stdout);
    return r.data ? r : undefined;
  } catch {
    return undefined;
  }
}

const spans = (s: Span[] | undefined) => (s ?? []).map((x) => `${x.start_time}-${x.end_time}`).join(' ') || '-';
for (const v of videos) {
  const t0 = performance.now();
  const r = await identify(join(dir, v), out);
  const line = r ? r.data.face_data.map((f) => `face ${f.face_id} ${f.start_time}-${f.end_time} speaking ${spans(f.speaking)}`).join('; ') + `  (voice ${spans(r.data.audio?.speech)})` : 'no result';
  console.log(`${v} ${((performance.now() - t0) / 1000).toFixed(1)} s  ${line}`);
}

const scorer = benchTool(dir, 'score-speaking.mjs');
let status = 0;
if (scorer) {
  const r = spawnSync(process.execPath, [scorer, dir, out], { encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  status = r.status ?? 1;
} else console.error(`no score-speaking.mjs next to ${dir} nor in ../shared/bench`);
status = score() || status;

// single speakers with their own sound: how much of the voice is given to them
const realDir = join(dir, '..', 'real');
if (!process.argv[2] && existsSync(realDir)) {
  const realOut = join(out, 'real');
  for (const clip of ['r10_latentsync1_1080x1920.mp4', 'r14_retalking1_vfr_720.mp4', 'r17_wda_aoc_720.mp4']) {
    if (!existsSync(join(realDir, clip))) continue;
    const r = await identify(join(realDir, clip), realOut);
    if (!r) {
      console.log(`${clip}: no result`);
      continue;
    }
    const voiced = (r.data.audio?.speech ?? []).reduce((s, x) => s + x.end_time - x.start_time, 0);
    const speaking = [...r.data.face_data, ...r.data.rejected_faces].flatMap((f) => f.speaking ?? []).reduce((s, x) => s + x.end_time - x.start_time, 0);
    console.log(`${clip}: voiced ${(voiced / 1000).toFixed(1)} s, marked speaking ${(speaking / 1000).toFixed(1)} s, share ${voiced ? (speaking / voiced).toFixed(2) : '-'}`);
  }
}
process.exit(status);
