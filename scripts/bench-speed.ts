// npm run bench:speed [VIDEO] — times `ffmpeg -v error -i VIDEO -f null -` (the decode floor)
// and `kirin identify VIDEO` side by side, median of 3 runs each, and prints the ratio, the wall
// times, frames decoded, frames through each model and peak memory. Without VIDEO it makes a
// 60 s 1080p30 talking-head clip (from ../shared/bench/clips, or a face photo of face-api).
import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ffmpegPath } from '../src/media/binaries.js';
import { repoRoot as root, speedClip } from './bench-common.js';

const ffmpeg = ffmpegPath();
const runs = Number(process.env.BENCH_RUNS ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const video = resolve(process.argv[2] ?? speedClip());
const decodeMs: number[] = [], identifyMs: number[] = [];
let stats: Record<string, unknown> = {};
for (let i = 0; i < runs; i++) {
  let t0 = performance.now();
  execFileSync(ffmpeg, ['-v', 'error', '-i', video, '-f', 'null', '-'], { stdio: 'inherit' });
  decodeMs.push(performance.now() - t0);
  t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'kirin.js'), 'identify', video, '--out', join(root, '.bench-out', 'speed-images')], {
    encoding: 'utf8', env: { ...process.env, KIRIN_STATS: '1' }, maxBuffer: 64 << 20,
  });
  identifyMs.push(performance.now() - t0);
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    process.exit(1);
  }
  const line = r.stderr.split('\n').find((l) => l.startsWith('kirin-stats '));
  if (line) stats = JSON.parse(line.slice('kirin-stats '.length));
}
const d = median(decodeMs), k = median(identifyMs);
console.log(`video ${video}`);
console.log(`ffmpeg decode ${(d / 1000).toFixed(2)} s, kirin identify ${(k / 1000).toFixed(2)} s (median of ${runs})`);
console.log(`stats ${JSON.stringify(stats)}`);
console.log(`ratio ${(k / d).toFixed(2)}x (identify / decode)`);
