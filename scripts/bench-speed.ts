// npm run bench:speed [VIDEO…] [--baseline DIR] — times `ffmpeg -v error -i VIDEO -f null -` (the
// decode floor) and `kirin identify VIDEO` side by side, median of 3 runs each, and prints the
// ratio, the wall times, frames decoded, frames through each model and peak memory. Without VIDEO
// it measures two clips, one after the other: a 60 s 1080p30 talking head (from
// ../shared/bench/clips, or a face photo of face-api), and, when ../shared/bench is there, the
// 60 s multi-face clip its speed/long60_multi_1080p.spec.json describes (built once with
// compose.mjs into .bench-out/). With --baseline DIR (another checkout of this repository, e.g. a `git worktree` of
// an older commit, with its node_modules) that checkout's `kirin identify` is timed too, in the
// same rounds, so old and new are compared on one machine at one time. --baseline may be given
// more than once, and as DIR:NAME=VALUE,… to run that checkout with those environment variables
// (e.g. `--baseline .:KIRIN_SPEAKING=0`: this checkout without who-is-speaking).
import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ffmpegPath } from '../src/media/binaries.js';
import { multiFaceClip, repoRoot as root, speedClip } from './bench-common.js';

const ffmpeg = ffmpegPath();
const runs = Number(process.env.BENCH_RUNS ?? 3);
const { values, positionals } = parseArgs({ allowPositionals: true, options: { baseline: { type: 'string', multiple: true } } });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** DIR or DIR:NAME=VALUE,NAME=VALUE */
const baseline = (spec: string) => {
  const at = spec.indexOf(':');
  const dir = resolve(at < 0 ? spec : spec.slice(0, at));
  const env = Object.fromEntries(at < 0 ? [] : spec.slice(at + 1).split(',').map((kv) => kv.split('=', 2) as [string, string]));
  return { name: 'baseline identify', dir, env, label: spec };
};
const checkouts = [{ name: 'kirin identify', dir: root, env: {} as Record<string, string>, label: root }, ...(values.baseline ?? []).map(baseline)];
const videos = positionals.length ? positionals.map((v) => resolve(v)) : [speedClip(), multiFaceClip()].filter((v): v is string => !!v);
for (const video of videos) measure(video);

/** Decode-only and each checkout's `kirin identify`, alternating, `runs` rounds; prints medians, stats and ratios. */
function measure(video: string): void {
  const decodeMs: number[] = [];
  const identifyMs = checkouts.map(() => [] as number[]);
  const stats: Record<string, unknown>[] = checkouts.map(() => ({}));
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    execFileSync(ffmpeg, ['-v', 'error', '-i', video, '-f', 'null', '-'], { stdio: 'inherit' });
    decodeMs.push(performance.now() - t0);
    checkouts.forEach((c, k) => {
      const t = performance.now();
      const r = spawnSync(process.execPath, [join(c.dir, 'bin', 'kirin.js'), 'identify', video, '--out', join(root, '.bench-out', 'speed-images')], {
        encoding: 'utf8', env: { ...process.env, ...c.env, KIRIN_STATS: '1' }, maxBuffer: 64 << 20,
      });
      identifyMs[k].push(performance.now() - t);
      if (r.status !== 0) {
        console.error(r.stdout, r.stderr);
        process.exit(1);
      }
      const line = r.stderr.split('\n').find((l) => l.startsWith('kirin-stats '));
      if (line) stats[k] = JSON.parse(line.slice('kirin-stats '.length));
    });
  }
  const d = median(decodeMs);
  console.log(`video ${video}`);
  checkouts.forEach((c, k) => {
    const m = median(identifyMs[k]);
    if (k > 0) console.log(`baseline ${c.label}`);
    console.log(`ffmpeg decode ${(d / 1000).toFixed(2)} s, ${c.name} ${(m / 1000).toFixed(2)} s (median of ${runs})`);
    console.log(`stats ${JSON.stringify(stats[k])}`);
    console.log(`ratio ${(m / d).toFixed(2)}x (identify / decode)`);
  });
  for (let k = 1; k < checkouts.length; k++) {
    console.log(`new / baseline ${checkouts[k].label} ${(median(identifyMs[0]) / median(identifyMs[k])).toFixed(2)}x`);
  }
}
