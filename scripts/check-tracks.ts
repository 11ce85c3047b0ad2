/**
 * Checks the per-frame tracks (`kirin identify V --tracks T.json`) of every video of one or more
 * benchmark folders, and measures box jitter:
 *
 *   node --import tsx scripts/check-tracks.ts [DIR ...]      (default ../shared/bench/public)
 *
 * Per video: the frame count equals ffprobe -count_frames; every frame of every face's interval
 * has a box and 5 keypoints; every box (smoothed and raw) lies inside the frame; in a side-by-side
 * pair (truth slots left/right) each face's boxes stay on one half. Then the median frame-to-frame
 * motion of the box centre as a share of the box width, raw and smoothed, per folder (over every
 * pair of consecutive frames where a face has a box on both). Exit 1 when a check fails.
 *
 *   --keep DIR     keep the tracks files there (default: a temporary folder, removed)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { ffprobePath } from '../src/media/binaries.js';
import type { TracksDocument } from '../src/pipeline/tracks-document.js';
import { repoRoot, sharedBench } from './bench-common.js';

type Corners = [number, number, number, number];

interface TruthFace {
  slot?: string;
  start_time: number;
  end_time: number;
}

const args = process.argv.slice(2);
const keepAt = args.indexOf('--keep');
const keep = keepAt >= 0 ? resolve(args.splice(keepAt, 2)[1]) : undefined;
const dirs = (args.length ? args : [join(sharedBench, 'public')]).map((d) => resolve(d));
const out = keep ?? mkdtempSync(join(tmpdir(), 'kirin-tracks-check-'));
mkdirSync(out, { recursive: true });
const bin = join(repoRoot, 'bin', 'kirin.js');

function countFrames(video: string): number {
  const text = execFileSync(ffprobePath(), ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', video], { encoding: 'utf8' });
  return Number(text.trim().split(/[\s,]+/)[0]);
}

const median = (v: number[]) => {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (v: number[], q: number) => ([...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(q * v.length))] ?? NaN);
const pct = (v: number) => `${(100 * v).toFixed(3)}%`;

/** |Δ centre| / width for every two consecutive frames where the face has a box on both. */
function motions(boxes: (Corners | null)[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < boxes.length; i++) {
    const a = boxes[i - 1], b = boxes[i];
    if (!a || !b) continue;
    const dx = (b[0] + b[2] - a[0] - a[2]) / 2, dy = (b[1] + b[3] - a[1] - a[3]) / 2;
    out.push(Math.hypot(dx, dy) / Math.max(1, (a[2] - a[0] + b[2] - b[0]) / 2));
  }
  return out;
}

let failures = 0;
const fail = (video: string, what: string) => {
  failures++;
  console.log(`  FAIL ${video}: ${what}`);
};

for (const dir of dirs) {
  const videos = readdirSync(dir).filter((f) => /\.(mp4|mov)$/i.test(f)).sort();
  const raw: number[] = [], smooth: number[] = [];
  let checkedFrames = 0;
  console.log(`${dir}: ${videos.length} videos`);
  for (const name of videos) {
    const video = join(dir, name);
    const tracksFile = join(out, `${basename(name).replace(/\.(mp4|mov)$/i, '')}.tracks.json`);
    const started = performance.now();
    const run = spawnSync(process.execPath, [bin, 'identify', video, '--tracks', tracksFile, '--out', join(out, 'faces')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const seconds = (performance.now() - started) / 1000;
    if (run.status !== 0 || !existsSync(tracksFile)) {
      fail(name, `kirin identify exit ${run.status}: ${run.stdout.slice(0, 300)} ${run.stderr.slice(-300)}`);
      continue;
    }
    const doc = JSON.parse(readFileSync(tracksFile, 'utf8')) as TracksDocument;
    const { width: W, height: H } = doc.video;
    const before = failures;
    const frames = countFrames(video);
    if (doc.video.frame_count !== frames || doc.frames_ms.length !== frames) fail(name, `frame_count ${doc.video.frame_count}, frames_ms ${doc.frames_ms.length}, ffprobe -count_frames ${frames}`);
    if (doc.frames_ms.some((t, i) => i > 0 && t <= doc.frames_ms[i - 1])) fail(name, 'frames_ms not strictly ascending');
    const all = [...doc.faces, ...doc.rejected_faces];
    for (const f of all) {
      for (const key of ['boxes', 'raw_boxes', 'keypoints', 'mouth'] as const) {
        if (f[key].length !== frames) fail(name, `${key} has ${f[key].length} entries for ${frames} frames`);
      }
      for (const key of ['boxes', 'raw_boxes'] as const) {
        f[key].forEach((b, i) => {
          if (b && !(b[0] >= 0 && b[1] >= 0 && b[2] <= W && b[3] <= H && b[0] < b[2] && b[1] < b[3])) fail(name, `${key}[${i}] ${JSON.stringify(b)} outside ${W}x${H}`);
        });
      }
      f.boxes.forEach((b, i) => {
        if (!b !== !f.keypoints[i] || !b !== !f.raw_boxes[i]) fail(name, `frame ${i}: box, raw box and keypoints not all present or all null`);
      });
    }
    for (const f of doc.faces) {
      doc.frames_ms.forEach((t, i) => {
        if (t < f.start_time || t >= f.end_time) return;
        checkedFrames++;
        if (!f.boxes[i] || !f.keypoints[i] || f.keypoints[i]!.length !== 5) fail(name, `face ${f.face_id}: frame ${i} (${t} ms) in its interval has no box or not 5 keypoints`);
      });
    }
    // side by side: while the truth has a left and a right face, every face keeps to one half
    const truthFile = join(dir, `${name.replace(/\.(mp4|mov)$/i, '')}.truth.json`);
    const truth = existsSync(truthFile) ? (JSON.parse(readFileSync(truthFile, 'utf8')) as { faces: TruthFace[] }).faces : [];
    const sided = (slot: string, t: number) => truth.some((tf) => tf.slot === slot && t >= tf.start_time && t < tf.end_time);
    let pairFrames = 0;
    for (const f of all) {
      const sides = new Set<string>();
      doc.frames_ms.forEach((t, i) => {
        const b = f.boxes[i];
        if (!b || !sided('left', t) || !sided('right', t)) return;
        pairFrames++;
        sides.add(b[2] <= W / 2 ? 'left' : b[0] >= W / 2 ? 'right' : 'across');
      });
      if (sides.size > 1 || sides.has('across')) fail(name, `a face's boxes in the pair are on ${[...sides].join(' and ')}`);
    }
    const r = all.flatMap((f) => motions(f.raw_boxes)), s = all.flatMap((f) => motions(f.boxes));
    raw.push(...r);
    smooth.push(...s);
    console.log(
      `  ${failures === before ? 'ok  ' : 'FAIL'} ${name}: ${frames} frames, ${doc.faces.length} faces + ${doc.rejected_faces.length} rejected` +
        `${pairFrames ? `, ${pairFrames} face-frames side by side` : ''}; motion median raw ${pct(median(r))} smoothed ${pct(median(s))}; ${seconds.toFixed(1)} s`,
    );
  }
  console.log(`  ${basename(dir)}: box-centre motion per frame / box width over ${raw.length} frame pairs: median raw ${pct(median(raw))}, smoothed ${pct(median(smooth))}; p90 raw ${pct(quantile(raw, 0.9))}, smoothed ${pct(quantile(smooth, 0.9))}; ${checkedFrames} interval frames checked`);
}
if (!keep) rmSync(out, { recursive: true, force: true });
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exitCode = failures ? 1 : 0;
