/**
 * How far the per-frame tracks' values between analysed frames are from a measurement on those
 * frames: each video is analysed as usual (with its tracks) and again with the mesh on every
 * frame (every frame decoded, sampled every frame); on each frame the dense run measured a face,
 * the tracks' raw box centre, smoothed box centre, keypoints and mouth are compared with it.
 *
 *   node --import tsx scripts/check-tracks-interpolation.ts VIDEO ...
 *
 * Errors are shares of the measured box width: median and p90 over all compared face-frames.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Point2 } from '../src/analysis/types.js';
import { loadEngineConfig } from '../src/config.js';
import { identifyFile } from '../src/pipeline/identify-file.js';
import { summarize } from '../src/pipeline/result-json.js';
import { tracksDocument } from '../src/pipeline/tracks-document.js';

const videos = process.argv.slice(2);
if (!videos.length) {
  console.error('usage: check-tracks-interpolation.ts VIDEO ...');
  process.exit(2);
}
const engine = loadEngineConfig(process.env);
const out = mkdtempSync(join(tmpdir(), 'kirin-interp-'));
const q = (v: number[], p: number) => ([...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(p * v.length))] ?? NaN);
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const dist = (a: Point2, b: Point2) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const all = { raw: [] as number[], smooth: [] as number[], keypoints: [] as number[], mouth: [] as number[] };

for (const video of videos) {
  const usual = await identifyFile(video, { outDir: out, engine, frameTimes: true, audio: true });
  const summary = summarize(usual);
  const doc = tracksDocument(summary, summary.frame_source!);
  const dense = await identifyFile(video, { outDir: out, engine, audio: false, sampling: { sampleEveryMs: 1, skipNonReference: false } });
  const frameOf = new Map(doc.frames_ms.map((t, i) => [t, i]));
  const errs = { raw: [] as number[], smooth: [] as number[], keypoints: [] as number[], mouth: [] as number[] };
  let measuredFrames = 0;
  for (const obs of dense.analysis.observations) {
    const i = frameOf.get(obs.timeMs);
    if (i === undefined) continue;
    measuredFrames++;
    for (const s of obs.faces) {
      const cx = s.box.x + s.box.width / 2, cy = s.box.y + s.box.height / 2, w = s.box.width;
      // the tracks' face on this frame: the one whose raw box centre is nearest
      let best: { f: (typeof doc.faces)[number]; d: number } | undefined;
      for (const f of [...doc.faces, ...doc.rejected_faces] as (typeof doc.faces)[number][]) {
        const b = f.raw_boxes[i];
        if (!b) continue;
        const d = Math.hypot((b[0] + b[2]) / 2 - cx, (b[1] + b[3]) / 2 - cy);
        if (!best || d < best.d) best = { f, d };
      }
      if (!best || best.d > w) continue;
      const sb = best.f.boxes[i]!;
      errs.raw.push(best.d / w);
      errs.smooth.push(Math.hypot((sb[0] + sb[2]) / 2 - cx, (sb[1] + sb[3]) / 2 - cy) / w);
      const kp = best.f.keypoints[i]!;
      errs.keypoints.push(kp.reduce((sum, p, k) => sum + dist(p, s.keypoints[k]), 0) / 5 / w);
      const m = best.f.mouth[i];
      if (m && m.length === s.lips.length) errs.mouth.push(m.reduce((sum, p, k) => sum + dist(p, s.lips[k]), 0) / m.length / w);
    }
  }
  for (const k of Object.keys(all) as (keyof typeof all)[]) all[k].push(...errs[k]);
  console.log(
    `${basename(video)}: ${usual.analysis.observations.length} analysed frames vs ${measuredFrames} measured; error / box width, median (p90): ` +
      `raw box centre ${pct(q(errs.raw, 0.5))} (${pct(q(errs.raw, 0.9))}), smoothed ${pct(q(errs.smooth, 0.5))} (${pct(q(errs.smooth, 0.9))}), ` +
      `keypoints ${pct(q(errs.keypoints, 0.5))} (${pct(q(errs.keypoints, 0.9))}), mouth ${pct(q(errs.mouth, 0.5))} (${pct(q(errs.mouth, 0.9))}) over ${errs.raw.length} face-frames`,
  );
}
console.log(
  `all: raw box centre ${pct(q(all.raw, 0.5))} (${pct(q(all.raw, 0.9))}), smoothed ${pct(q(all.smooth, 0.5))} (${pct(q(all.smooth, 0.9))}), ` +
    `keypoints ${pct(q(all.keypoints, 0.5))} (${pct(q(all.keypoints, 0.9))}), mouth ${pct(q(all.mouth, 0.5))} (${pct(q(all.mouth, 0.9))}) over ${all.raw.length} face-frames`,
);
rmSync(out, { recursive: true, force: true });
