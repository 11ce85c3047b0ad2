// npm run bench:speaking-cases [-- --fps N] — who is speaking on the composed check set of
// scripts/speaking-cases/: builds each set's specs (tune/, check/, and the check sets after it,
// each written before a method change, or the method as it is, was scored on it) with
// ../shared/bench/compose.mjs into .bench-out/speaking-cases/<set>/ (once; a spec newer than its
// video is built again), then runs bench:speaking on each folder, which prints
// score-speaking.mjs's and score.mjs's summaries; then scores all the sets together, as one
// folder, and the anchor "every face speaks whenever a voice is heard" on the same videos (the
// true faces, each given all the voice the service heard).
// With --fps N the benchmark's speaking/ folder and the sets (all 30 fps) are first
// re-encoded at N frames a second (x264 veryfast, with its B-frames; the sound copied) into
// .bench-out/speaking-cases-<N>fps/, and those copies are run instead: how the method fares at
// other frame rates (24 and 25 fps video shows only 12–12.5 reference frames a second).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ffmpegPath } from '../src/media/binaries.js';
import { SPEAKING_CASE_SETS, baseName, benchTool, compose, repoRoot, sharedBench, type Span, type SpeakingTruth } from './bench-common.js';

if (!existsSync(join(sharedBench, 'compose.mjs'))) {
  console.error(`bench:speaking-cases needs ${sharedBench} (compose.mjs, clips/, score-speaking.mjs)`);
  process.exit(2);
}
const usage = () => {
  console.error('usage: npm run bench:speaking-cases [-- --fps N]   (N: frames a second, up to 120)');
  process.exit(2);
};
let fpsArg: string | undefined;
try {
  fpsArg = parseArgs({ options: { fps: { type: 'string' } } }).values.fps;
} catch {
  usage();
}
const fps = fpsArg === undefined ? undefined : Number(fpsArg);
if (fps !== undefined && !(fps > 0 && fps <= 120)) usage();

const folders: { name: string; dir: string }[] = [];
for (const half of SPEAKING_CASE_SETS) {
  const specs = join(repoRoot, 'scripts', 'speaking-cases', half);
  const dir = join(repoRoot, '.bench-out', 'speaking-cases', half);
  mkdirSync(dir, { recursive: true });
  for (const spec of readdirSync(specs).filter((f) => f.endsWith('.spec.json')).sort()) {
    const video = join(dir, spec.replace(/\.spec\.json$/, '.mp4'));
    if (existsSync(video) && statSync(video).mtimeMs >= statSync(join(specs, spec)).mtimeMs) continue;
    compose(join(specs, spec), video);
  }
  folders.push({ name: half, dir });
}
if (fps !== undefined) folders.unshift({ name: 'speaking', dir: join(sharedBench, 'speaking') });

let status = 0;
const runs: { name: string; run: string }[] = [];
for (const { name, dir } of folders) {
  const run = fps === undefined ? dir : reencoded(dir, join(repoRoot, '.bench-out', `speaking-cases-${fps}fps`, name), fps);
  console.log(`== ${fps === undefined ? '' : `${fps} fps `}${name}/`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'bench-speaking.ts'), run], { stdio: 'inherit' });
  status ||= r.status ?? 1;
  if (name !== 'speaking') runs.push({ name, run });
}
scoreTogether(runs, join(repoRoot, '.bench-out', fps === undefined ? 'speaking-cases-together' : `speaking-cases-together-${fps}fps`));
process.exit(status);

/**
 * The sets' truth files and results side by side in `out` (named SET-VIDEO, so no two sets
 * collide), scored as one folder, and the anchor on the same videos: every true face given
 * all the voice the service heard while it is on screen (data.audio.speech).
 */
function scoreTogether(sets: readonly { name: string; run: string }[], out: string): void {
  // the scorer each set was scored with (bench-speaking.ts finds it the same way)
  const scorer = sets.length ? benchTool(sets[0].run, 'score-speaking.mjs') : undefined;
  if (!scorer) return;
  rmSync(out, { recursive: true, force: true });
  const [truths, results, anchors] = ['truth', 'results', 'anchor'].map((d) => join(out, d));
  for (const d of [truths, results, anchors]) mkdirSync(d, { recursive: true });
  for (const { name, run } of sets) {
    // where bench-speaking.ts keeps the results of a folder
    const resultDir = join(repoRoot, '.bench-out', `speaking-${basename(run)}`);
    for (const file of readdirSync(run).filter((f) => f.endsWith('.truth.json'))) {
      const truth = JSON.parse(readFileSync(join(run, file), 'utf8')) as SpeakingTruth;
      const video = `${name}-${baseName(truth.video)}`;
      copyFileSync(join(run, file), join(truths, `${video}.truth.json`));
      const resultFile = join(resultDir, `${baseName(truth.video)}.json`);
      if (!existsSync(resultFile)) continue; // scored as a video without a result
      const result = readFileSync(resultFile, 'utf8');
      writeFileSync(join(results, `${video}.json`), result);
      const speech = (JSON.parse(result) as { data?: { audio?: { speech: Span[] } } }).data?.audio?.speech ?? [];
      const faces = truth.faces.map((f, i) => ({
        face_id: `face_${i}`,
        start_time: f.start_time,
        end_time: f.end_time,
        speaking: speech.map((s) => ({ start_time: Math.max(s.start_time, f.start_time), end_time: Math.min(s.end_time, f.end_time) })).filter((s) => s.end_time > s.start_time),
      }));
      writeFileSync(join(anchors, `${video}.json`), JSON.stringify({ data: { face_data: faces, rejected_faces: [] } }));
    }
  }
  const summary = (dir: string) => spawnSync(process.execPath, [scorer, truths, dir], { encoding: 'utf8' }).stdout.match(/^speaking F1.*$/m)?.[0] ?? 'no summary from score-speaking.mjs';
  console.log(`== the ${sets.length} sets together (${sets.map((s) => s.name).join(', ')})`);
  console.log(summary(results));
  console.log(`the anchor, every face speaking whenever a voice is heard: ${summary(anchors)}`);
}

/** The folder's videos at `rate` frames a second, with their truth files, in `out` (a video newer than its copy is encoded again). */
function reencoded(dir: string, out: string, rate: number): string {
  mkdirSync(out, { recursive: true });
  for (const video of readdirSync(dir).filter((f) => f.endsWith('.mp4')).sort()) {
    const truth = video.replace(/\.mp4$/, '.truth.json');
    if (!existsSync(join(dir, truth))) continue;
    copyFileSync(join(dir, truth), join(out, truth));
    const copy = join(out, video);
    if (existsSync(copy) && statSync(copy).mtimeMs >= statSync(join(dir, video)).mtimeMs) continue;
    execFileSync(ffmpegPath(), ['-v', 'error', '-y', '-i', join(dir, video), '-r', String(rate), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-c:a', 'copy', copy], { stdio: 'inherit' });
  }
  return out;
}
