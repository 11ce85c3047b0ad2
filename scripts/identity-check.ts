// How well each appearance model tells people apart: same-person and different-person cosine
// similarity over the benchmark clips (../shared/bench/clips: one person per clip), one sample a
// side and the mean of a burst of samples a side, and the threshold each distribution supports.
//
//   node --import tsx scripts/identity-check.ts [--save SAMPLES.json] [CLIP_DIR]   (default ../shared/bench/clips)
//
// --save writes every sample's vectors (for further analysis without re-running the models).
//
// Each clip is sampled in bursts (BURST frames 0.2 s apart, spread over the clip), at a 640 px
// long side as the engine analyses; every other burst is also shrunk so the face is ~72 px tall
// (small faces). Faces are found by the engine's own detector and mesh; turned faces are kept.
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { keypointsOf } from '../src/vision/face-landmarks.ts';
import { cosine } from '../src/analysis/identity.ts';
import { FaceEmbedder, meanEmbedding } from '../src/vision/face-embedding.ts';
import { headPose } from '../src/vision/head-pose.ts';
import { FaceDetector } from '../src/vision/face-detector.ts';
import { FaceMesh, meshCropFor, type FaceLandmarks } from '../src/vision/face-mesh.ts';
import { loadFaceRecognitionModel } from '../src/vision/face-recognition-model.ts';
import { FaceResEmbedder } from '../src/vision/faceres-embedding.ts';
import { squareAround, squareTiles, type Box } from '../src/vision/geometry.ts';
import type { RgbImage } from '../src/vision/image.ts';
import type { ModelRunner } from '../src/vision/model-runner.ts';
import { loadOnnxHumanModel, type OnnxHumanModel } from '../src/vision/onnx/onnx-models.ts';
import { sharedBench } from './bench-common.ts';

const args = process.argv.slice(2);
const saveAt = args.indexOf('--save');
const SAVE = saveAt >= 0 ? args.splice(saveAt, 2)[1] : undefined;
const CLIP_DIR = args[0] ?? join(sharedBench, 'clips');
const LONG_SIDE = 640;
const BURSTS = 6;
const BURST = 4;
const SMALL_FACE_PX = 72;

/**
 * Who is in which clip, by looking at them: one person per clip, except that av_aoc and av_rt3
 * are the same woman filmed twice. Groups of look-alikes (similar age, gender, framing) are the
 * hard different-person pairs.
 */
const SAME_PERSON: Record<string, string> = { av_rt3: 'av_aoc' };
const LOOK_ALIKES = [
  ['lp_d0', 'lp_d9', 'lp_d12', 'lp_d13', 'lp_d20', 'av_rt1'], // East Asian men
  ['lp_d18', 'lp_d19', 'av_rt2', 'av_ls2', 'av_ls3'], // white men
  ['lp_d10', 'lp_d14', 'lp_s20', 'av_ls1', 'lp_d11'], // dark-haired young women, a girl
  ['av_hill', 'av_rt4', 'av_rt5', 'lp_d3', 'lp_d6', 'lp_s13', 'lp_s18', 'lp_s29', 'lp_s32', 'av_aoc'], // women, mostly fair-haired
];

interface Sample {
  person: string;
  clip: string;
  burst: number;
  small: boolean;
  yaw: number;
  faceSide: number;
  vectors: Record<string, Float32Array>;
}

function runnerOf(model: OnnxHumanModel): ModelRunner {
  return { run: (input, dims) => model.runWithDims(input, dims) };
}

async function probe(video: string): Promise<{ width: number; height: number; seconds: number }> {
  const ff = spawn('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height:format=duration', '-of', 'json', video]);
  let out = '';
  for await (const chunk of ff.stdout as AsyncIterable<Buffer>) out += chunk;
  const j = JSON.parse(out) as { streams: { width: number; height: number }[]; format: { duration: string } };
  return { width: j.streams[0].width, height: j.streams[0].height, seconds: Number(j.format.duration) };
}

/** `count` frames 0.2 s apart from `start` s, scaled to width×height, as RGB. */
async function burst(video: string, start: number, count: number, width: number, height: number): Promise<RgbImage[]> {
  const ff = spawn('ffmpeg', ['-v', 'error', '-ss', start.toFixed(3), '-i', video, '-vf', `fps=5,scale=${width}:${height}`, '-frames:v', String(count), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  for await (const chunk of ff.stdout as AsyncIterable<Buffer>) chunks.push(chunk);
  const all = Buffer.concat(chunks), size = width * height * 3;
  return Array.from({ length: Math.floor(all.length / size) }, (_, i) => ({ width, height, data: new Uint8Array(all.subarray(i * size, (i + 1) * size)) }));
}

/** The image shrunk by an integer-free factor (box filter): a small face as a wide shot shows it. */
function shrink(img: RgbImage, k: number): RgbImage {
  const width = Math.max(2, Math.round(img.width * k)), height = Math.max(2, Math.round(img.height * k));
  const data = new Uint8Array(width * height * 3);
  const step = 1 / k;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * step), y1 = Math.min(img.height, Math.max(y0 + 1, Math.floor((y + 1) * step)));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * step), x1 = Math.min(img.width, Math.max(x0 + 1, Math.floor((x + 1) * step)));
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) s += img.data[(yy * img.width + xx) * 3 + c];
        data[(y * width + x) * 3 + c] = Math.round(s / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  return { width, height, data };
}

class Sampler {
  readonly embedMs: Record<string, number> = {};
  constructor(
    private readonly detector: FaceDetector,
    private readonly mesh: FaceMesh,
    private readonly faceres: FaceResEmbedder,
    private readonly resnet: FaceEmbedder,
    private readonly resnetMirrored: FaceEmbedder,
  ) {}

  /** The largest face on the image, meshed; undefined if none. */
  async face(img: RgbImage): Promise<FaceLandmarks | undefined> {
    let found = await this.detector.detect(img);
    if (!found.length) for (const tile of squareTiles(img.width, img.height)) found.push(...(await this.detector.detect(img, tile)));
    if (!found.length) return undefined;
    const best = found.reduce((a, b) => (a.box.width * a.box.height >= b.box.width * b.box.height ? a : b));
    let [m] = await this.mesh.run(img, [meshCropFor(best.box)]);
    // once more on the mesh's own box: the detector's box is looser than the mesh crop expects
    [m] = await this.mesh.run(img, [meshCropFor(m.box)]);
    return m.confidence >= 0.5 ? m : undefined;
  }

  async vectors(img: RgbImage, m: FaceLandmarks): Promise<Record<string, Float32Array>> {
    const kp = keypointsOf(m.points);
    const crop: Box = squareAround(m.box, 1.3);
    const timed = async (name: string, f: () => Promise<Float32Array[]>) => {
      const t = performance.now();
      const [v] = await f();
      this.embedMs[name] = (this.embedMs[name] ?? 0) + performance.now() - t;
      return v;
    };
    return {
      'faceres box×1.3 (today)': await timed('faceres box', () => this.faceres.embed(img, [crop])),
      'faceres aligned': await timed('faceres aligned', () => this.faceres.embedAligned(img, [kp], 0.4)),
      'resnet box×1.3': await timed('resnet box', () => this.resnet.embed(img, [crop])),
      'resnet aligned': await timed('resnet aligned', () => this.resnet.embedAligned(img, [kp])),
      'resnet aligned+mirrored': await timed('resnet aligned+mirrored', () => this.resnetMirrored.embedAligned(img, [kp])),
    };
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const i = (sorted.length - 1) * q, lo = Math.floor(i), hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

const lookAlikeGroup = new Map(LOOK_ALIKES.flatMap((g, i) => g.map((c) => [c, i] as const)));
const personOf = (clip: string) => SAME_PERSON[clip] ?? clip;

interface Unit {
  person: string;
  clip: string;
  burst: number;
  vector: Float32Array;
}

/** Similarities of all pairs: same person (different bursts: other moments), different people (all, and look-alikes). */
function distributions(units: readonly Unit[]): { same: number[]; different: number[]; lookAlike: number[] } {
  const same: number[] = [], different: number[] = [], lookAlike: number[] = [];
  for (let i = 0; i < units.length; i++) {
    for (let j = i + 1; j < units.length; j++) {
      const a = units[i], b = units[j];
      const s = cosine(a.vector, b.vector);
      if (a.person === b.person) {
        if (a.clip !== b.clip || a.burst !== b.burst) same.push(s);
      } else {
        different.push(s);
        const ga = lookAlikeGroup.get(a.clip), gb = lookAlikeGroup.get(b.clip);
        if (ga !== undefined && ga === gb) lookAlike.push(s);
      }
    }
  }
  for (const d of [same, different, lookAlike]) d.sort((x, y) => x - y);
  return { same, different, lookAlike };
}

const f3 = (x: number) => x.toFixed(3);

/** The threshold where splitting one person and merging two people are equally likely, and that rate. */
function equalErrorRate(same: readonly number[], different: readonly number[]): { threshold: number; rate: number } {
  let best = { threshold: NaN, rate: Infinity, gap: Infinity };
  for (let q = 0; q <= 1000; q++) {
    const t = quantile(same, 0.2 * (q / 1000));
    const split = same.filter((s) => s < t).length / same.length;
    const merged = different.filter((s) => s >= t).length / different.length;
    if (Math.abs(split - merged) < best.gap) best = { threshold: t, rate: (split + merged) / 2, gap: Math.abs(split - merged) };
  }
  return best;
}

function report(label: string, units: readonly Unit[]): { lookAlikeEer: { threshold: number; rate: number } } {
  const { same, different, lookAlike } = distributions(units);
  const p5 = quantile(same, 0.05), min = same[0];
  const line = (name: string, d: number[]) => {
    const p95 = quantile(d, 0.95), max = d[d.length - 1];
    // the threshold: midway between the bulk of each side (p5 of same, p95 of different)
    const threshold = (p5 + p95) / 2;
    const sameBelow = same.filter((s) => s < threshold).length / same.length;
    const diffAbove = d.filter((s) => s >= threshold).length / d.length;
    const eer = equalErrorRate(same, d);
    return `  vs ${name.padEnd(10)} n=${String(d.length).padStart(6)} max ${f3(max)} p95 ${f3(p95)} median ${f3(quantile(d, 0.5))} | margin p5−p95 ${f3(p5 - p95)} min−max ${f3(min - max)} | threshold ${f3(threshold)}: same below ${(100 * sameBelow).toFixed(1)}%, different at/above ${(100 * diffAbove).toFixed(2)}% | EER ${(100 * eer.rate).toFixed(2)}% at ${f3(eer.threshold)}`;
  };
  console.log(`${label}\n  same       n=${String(same.length).padStart(6)} min ${f3(min)} p5 ${f3(p5)} median ${f3(quantile(same, 0.5))}`);
  console.log(line('all', different));
  console.log(line('look-alike', lookAlike));
  return { lookAlikeEer: equalErrorRate(same, lookAlike) };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const [blazeface, facemesh, faceresModel] = await Promise.all([
    loadOnnxHumanModel('blazeface'), loadOnnxHumanModel('facemesh'), loadOnnxHumanModel('faceres', { outputs: [FaceResEmbedder.OUTPUT] }),
  ]);
  const t1 = performance.now();
  const resnetModel = await loadFaceRecognitionModel();
  const t2 = performance.now();
  console.log(`load: faceres convert ${faceresModel.loadTimings.convertMs.toFixed(0)} ms + session ${faceresModel.loadTimings.sessionMs.toFixed(0)} ms; resnet build ${resnetModel.loadTimings.convertMs.toFixed(0)} ms + session ${resnetModel.loadTimings.sessionMs.toFixed(0)} ms (wall: human models ${(t1 - t0).toFixed(0)} ms, resnet ${(t2 - t1).toFixed(0)} ms; conversions come from the cache after the first run)`);
  const sampler = new Sampler(new FaceDetector(runnerOf(blazeface)), new FaceMesh(runnerOf(facemesh)), new FaceResEmbedder(runnerOf(faceresModel)), new FaceEmbedder(runnerOf(resnetModel), { mirrored: false }), new FaceEmbedder(runnerOf(resnetModel), { mirrored: true }));

  const clips = readdirSync(CLIP_DIR).filter((f) => /^(lp|av)_.*\.mp4$/.test(f)).sort();
  const samples: Sample[] = [];
  for (const file of clips) {
    const clip = basename(file, '.mp4');
    const video = join(CLIP_DIR, file);
    const info = await probe(video);
    const s = LONG_SIDE / Math.max(info.width, info.height);
    const width = Math.round((info.width * s) / 2) * 2, height = Math.round((info.height * s) / 2) * 2;
    let kept = 0, missed = 0;
    for (let b = 0; b < BURSTS; b++) {
      const start = ((b + 0.5) / BURSTS) * Math.max(0, info.seconds - 1);
      for (const frame of await burst(video, start, BURST, width, height)) {
        const small = b % 2 === 1;
        let img = frame;
        let m = await sampler.face(frame);
        if (m && small) {
          const k = SMALL_FACE_PX / Math.max(m.box.width, m.box.height);
          if (k < 0.9) {
            img = shrink(frame, k);
            m = await sampler.face(img);
          }
        }
        if (!m) {
          missed++;
          continue;
        }
        kept++;
        samples.push({ person: personOf(clip), clip, burst: b, small, yaw: headPose(m.points).yaw, faceSide: Math.max(m.box.width, m.box.height), vectors: await sampler.vectors(img, m) });
      }
    }
    console.error(`${clip}: ${kept} faces, ${missed} frames without one`);
  }

  const yaws = samples.map((s) => Math.abs(s.yaw)).sort((a, b) => a - b);
  const sides = samples.map((s) => s.faceSide).sort((a, b) => a - b);
  console.log(`${samples.length} face samples from ${clips.length} clips (${new Set(samples.map((s) => s.person)).size} people); |yaw| median ${yaws[Math.floor(yaws.length / 2)].toFixed(0)}°, p90 ${quantile(yaws, 0.9).toFixed(0)}°, max ${yaws[yaws.length - 1].toFixed(0)}°; face side min ${sides[0].toFixed(0)} px, median ${quantile(sides, 0.5).toFixed(0)} px`);
  if (SAVE) writeFileSync(SAVE, JSON.stringify(samples.map((s) => ({ ...s, vectors: Object.fromEntries(Object.entries(s.vectors).map(([k, v]) => [k, [...v]])) }))));
  const calls = samples.length;
  for (const [name, ms] of Object.entries(sampler.embedMs)) console.log(`embed ${name}: ${(ms / calls).toFixed(1)} ms per face (one at a time, shared machine)`);

  for (const model of Object.keys(samples[0].vectors)) {
    console.log(`\n== ${model}`);
    report('one sample a side:', samples.map((s) => ({ person: s.person, clip: s.clip, burst: s.burst, vector: s.vectors[model] })));
    report('one sample a side, faces ≥ 100 px only:', samples.filter((s) => s.faceSide >= 100).map((s) => ({ person: s.person, clip: s.clip, burst: s.burst, vector: s.vectors[model] })));
    // mean of a burst: the samples the tracker has on one side of a cut
    const bursts = new Map<string, Sample[]>();
    for (const s of samples) bursts.set(`${s.clip}/${s.burst}`, [...(bursts.get(`${s.clip}/${s.burst}`) ?? []), s]);
    const means = [...bursts.values()].filter((g) => g.length >= 3).map((g) => ({ person: g[0].person, clip: g[0].clip, burst: g[0].burst, vector: meanEmbedding(g.map((s) => s.vectors[model])) }));
    const { lookAlikeEer } = report(`mean of ${BURST} samples (≥3) a side:`, means);
    // a person split in two and two look-alikes merged are equally bad: take the equal-error point
    console.log(`recommended threshold for ${model}: ${f3(lookAlikeEer.threshold)} (look-alike equal error rate ${(100 * lookAlikeEer.rate).toFixed(2)}%, mean of ${BURST} a side)`);
  }
}

await main();
