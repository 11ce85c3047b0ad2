import { analyzeObservations } from '../analysis/analyze.js';
import type { AnalysisConfig } from '../analysis/config.js';
import type { AnalysisResult, FaceSighting, FrameObservation } from '../analysis/types.js';
import { judgeSighting } from '../analysis/usability.js';
import { decodeFrames } from '../media/decode.js';
import type { VideoInfo } from '../media/types.js';
import { iou, type Box } from '../vision/geometry.js';
import type { FaceModels } from '../vision/models.js';
import { CutDetector } from '../vision/scene-cut.js';
import { FaceObserver, type ModelCalls } from './face-observer.js';
import { FrameRing } from './frame-ring.js';

/** How the video is sampled; the defaults balance speed against how often boundaries need refining. */
export interface SamplingOptions {
  /** Longer side of the analysed frames (the source is scaled down to it). */
  analysisLongSide: number;
  /** Known faces are re-measured this often. */
  sampleEveryMs: number;
  /** The detector looks for new faces this often (and at every hard cut). */
  detectEveryMs: number;
}

export const DEFAULT_SAMPLING: SamplingOptions = { analysisLongSide: 640, sampleEveryMs: 200, detectEveryMs: 1000 };

export interface VideoAnalysis {
  result: AnalysisResult;
  analysisWidth: number;
  analysisHeight: number;
  /** Source pixels per analysed pixel. */
  sourceScale: number;
  stats: { framesDecoded: number; framesAnalysed: number; modelCalls: ModelCalls };
}

export interface AnalyzeVideoOptions {
  config: AnalysisConfig;
  sampling?: Partial<SamplingOptions>;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
const TRACK_IOU = 0.3;

/**
 * Decodes the video once and decides, frame by frame, where faces are. Known faces are followed
 * with the cheap mesh model every sampleEveryMs, the detector runs every detectEveryMs and at
 * hard cuts, and wherever two analysed frames disagree the frames between them (kept in a ring
 * buffer) are bisected, so every boundary lands on the exact frame.
 */
export async function analyzeVideo(path: string, info: VideoInfo, models: FaceModels, opts: AnalyzeVideoOptions): Promise<VideoAnalysis> {
  const sampling = { ...DEFAULT_SAMPLING, ...opts.sampling };
  const cfg = opts.config;
  const scale = Math.min(1, sampling.analysisLongSide / Math.max(info.width, info.height));
  const width = even(info.width * scale), height = even(info.height * scale);
  const sourceScale = info.width / width;
  const fps = info.fps > 0 && Number.isFinite(info.fps) ? info.fps : 30;
  const step = Math.max(1, Math.round((fps * sampling.sampleEveryMs) / 1000));
  const ring = new FrameRing(Math.ceil((fps * (sampling.detectEveryMs + 2 * sampling.sampleEveryMs)) / 1000) + 4);
  const observer = new FaceObserver(models);
  const cuts = new CutDetector();
  const observations = new Map<number, FrameObservation>();
  const usable = (s: FaceSighting) => judgeSighting(s, cfg, sourceScale).usable;

  const observeAt = async (frame: number, hints: readonly Box[], detect = false, embed = false): Promise<FrameObservation> => {
    const f = ring.get(frame);
    const faces = await observer.observe(f.image, { hints, detect, embed });
    const obs = { frame, timeMs: f.timeMs, cutBefore: f.cutBefore, faces };
    observations.set(frame, obs);
    return obs;
  };

  /** Bisects between two analysed frames until every change between them sits on adjacent frames. */
  const refineBetween = async (a: FrameObservation, b: FrameObservation): Promise<void> => {
    if (b.frame - a.frame <= 1 || !statesDiffer(a.faces, b.faces, usable)) return;
    const mid = await observeAt((a.frame + b.frame) >> 1, [...a.faces, ...b.faces].map((f) => f.box));
    await refineBetween(a, mid);
    await refineBetween(mid, b);
  };

  /** The first frame in (lo, hi] at which a face seen at `hi` is already there. */
  const findStart = async (face: FaceSighting, lo: number, hi: number): Promise<number> => {
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const found = await observer.observe(ring.get(mid).image, { hints: [face.box], detect: false, embed: false });
      if (found.some((f) => iou(f.box, face.box) >= TRACK_IOU)) hi = mid;
      else lo = mid;
    }
    return hi;
  };

  /** A face the detector just found at `obs`: pin down when it appeared and add it to the frames since. */
  const backfill = async (face: FaceSighting, obs: FrameObservation, lastDetect: number): Promise<void> => {
    const lo = Math.max(lastDetect, obs.frame - ring.capacity + 1);
    const start = await findStart(face, lo, obs.frame);
    if (start === obs.frame) return;
    const earlier = [...observations.values()].filter((o) => o.frame >= start && o.frame < obs.frame);
    if (!earlier.some((o) => o.frame === start)) {
      const before = [...observations.values()].filter((o) => o.frame < start).sort((a, b) => b.frame - a.frame)[0];
      await observeAt(start, [...(before?.faces ?? []), face].map((f) => f.box));
    }
    for (const o of [...observations.values()].filter((o) => o.frame > start && o.frame < obs.frame)) {
      if (o.faces.some((f) => iou(f.box, face.box) >= TRACK_IOU)) continue;
      const found = await observer.observe(ring.get(o.frame).image, { hints: [face.box], detect: false, embed: false });
      o.faces.push(...found.filter((f) => !o.faces.some((g) => iou(g.box, f.box) > 0.4)));
    }
  };

  /** Re-checks every pair of neighbouring analysed frames in [from, to]. */
  const refineRange = async (from: number, to: number): Promise<void> => {
    const frames = [...observations.values()].filter((o) => o.frame >= from && o.frame <= to).sort((a, b) => a.frame - b.frame);
    for (let i = 1; i < frames.length; i++) await refineBetween(frames[i - 1], frames[i]);
  };

  let last: FrameObservation | undefined;
  let lastDetectFrame = -1;
  let lastDetectMs = -Infinity;
  let decoded = 0;
  let lastIndex = -1;
  let lastTimes: [number, number] = [0, 0];
  const expected = Math.max(1, info.frameCount);

  for await (const frame of decodeFrames(path, { width, height, signal: opts.signal, info })) {
    decoded++;
    const cutBefore = cuts.push(frame);
    ring.push(frame.index, frame.timeMs, cutBefore && frame.index > 0, width, height, frame.data);
    lastIndex = frame.index;
    lastTimes = [lastTimes[1], frame.timeMs];
    if (last && !cutBefore && frame.index - last.frame < step) continue;

    if (last && cutBefore) {
      // look at both sides of the cut, with appearances, so identity can be decided there
      const before = last.frame === frame.index - 1 ? last : await observeAt(frame.index - 1, last.faces.map((f) => f.box));
      await observer.embedInto(ring.get(before.frame).image, before.faces);
      await refineRange(last.frame, before.frame);
      last = before;
    }
    const detect = !last || cutBefore || frame.timeMs - lastDetectMs >= sampling.detectEveryMs;
    const obs = await observeAt(frame.index, last?.faces.map((f) => f.box) ?? [], detect, cutBefore);
    if (detect) {
      const fresh = obs.faces.filter((f) => !last?.faces.some((g) => iou(g.box, f.box) >= TRACK_IOU));
      await observer.embedInto(ring.get(obs.frame).image, fresh);
      if (last && !cutBefore) for (const face of fresh) await backfill(face, obs, lastDetectFrame);
      lastDetectFrame = frame.index;
      lastDetectMs = frame.timeMs;
    }
    if (last && !cutBefore) await refineRange(last.frame, obs.frame);
    last = obs;
    opts.onProgress?.(Math.min(0.99, decoded / expected));
  }

  if (last && lastIndex > last.frame) {
    const end = await observeAt(lastIndex, last.faces.map((f) => f.box));
    await refineRange(last.frame, end.frame);
  }
  const videoEndMs = decoded ? videoEnd(lastTimes[1], decoded, info.durationMs, fps) : 0;
  const result = analyzeObservations({ observations: [...observations.values()], videoEndMs, sourceScale }, cfg);
  opts.onProgress?.(1);
  return {
    result,
    analysisWidth: width,
    analysisHeight: height,
    sourceScale,
    stats: { framesDecoded: decoded, framesAnalysed: observations.size, modelCalls: { ...observer.calls } },
  };
}

/** Whether two analysed frames disagree: a face only in one of them, or a face usable in one only. */
function statesDiffer(a: readonly FaceSighting[], b: readonly FaceSighting[], usable: (s: FaceSighting) => boolean): boolean {
  if (a.length !== b.length) return true;
  const used = new Set<number>();
  for (const fa of a) {
    let best = -1, bestIou = TRACK_IOU;
    b.forEach((fb, j) => {
      const v = iou(fa.box, fb.box);
      if (!used.has(j) && v >= bestIou) { best = j; bestIou = v; }
    });
    if (best < 0) return true;
    used.add(best);
    if (usable(fa) !== usable(b[best])) return true;
  }
  return false;
}

/**
 * Where the last frame stops being shown: its time plus a frame's duration, or the container's
 * declared duration when that agrees to within a frame (it is exact, frame times are rounded).
 */
function videoEnd(lastFrameMs: number, frames: number, declaredMs: number, fps: number): number {
  const frameMs = frames > 1 ? lastFrameMs / (frames - 1) : 1000 / fps;
  const estimate = lastFrameMs + frameMs;
  return Math.abs(declaredMs - estimate) < frameMs ? declaredMs : estimate;
}
