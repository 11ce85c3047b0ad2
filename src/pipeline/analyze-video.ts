import { analyzeObservations } from '../analysis/analyze.js';
import type { AnalysisConfig } from '../analysis/config.js';
import type { AnalysisResult, FaceSighting, FrameObservation } from '../analysis/types.js';
import { judgeSighting } from '../analysis/usability.js';
import { decodeFrames } from '../media/decode.js';
import type { VideoInfo } from '../media/types.js';
import { iou, sameFace, squareTiles, type Box } from '../vision/geometry.js';
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
  /** The detector looks for new faces in the whole frame this often (and at every hard cut). */
  detectEveryMs: number;
  /** …and in one tile of the frame in turn this often, where small faces look larger. */
  tileEveryMs: number;
  /** Decode without the deblocking filter (cheaper; see decodeFrames). */
  skipLoopFilter: boolean;
  /** Leave out frames no other frame refers to (about half the decoding of a typical file; see decodeFrames). */
  skipNonReference: boolean;
}

export const DEFAULT_SAMPLING: SamplingOptions = {
  analysisLongSide: 640,
  sampleEveryMs: 400,
  detectEveryMs: 1000,
  tileEveryMs: 2000,
  skipLoopFilter: process.env.KIRIN_EXACT_DECODE !== '1',
  skipNonReference: process.env.KIRIN_EXACT_DECODE !== '1',
};

export interface VideoAnalysis {
  result: AnalysisResult;
  analysisWidth: number;
  analysisHeight: number;
  /** Source pixels per analysed pixel. */
  sourceScale: number;
  /** Only frames other frames refer to were decoded (so every sighting is on such a frame). */
  skippedNonReference: boolean;
  stats: {
    framesDecoded: number;
    framesAnalysed: number;
    modelCalls: ModelCalls;
    /** Time spent waiting for ffmpeg's next frame (the rest of the analysis time is spent in JS and the models). */
    decodeWaitMs: number;
    analysisMs: number;
  };
}

export interface AnalyzeVideoOptions {
  config: AnalysisConfig;
  sampling?: Partial<SamplingOptions>;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/** Decoded frames ffmpeg may run ahead of the analysis (memory: at most this many bytes). */
const PREFETCH_BYTES = 128 << 20;

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

/**
 * Decodes the video once and decides, frame by frame, where faces are. Known faces are followed
 * with the cheap mesh model every sampleEveryMs, the detector runs every detectEveryMs and at
 * hard cuts, and wherever two analysed frames disagree the frames between them (kept in a ring
 * buffer) are bisected, so every boundary lands on the exact frame.
 */
export async function analyzeVideo(path: string, info: VideoInfo, models: FaceModels | Promise<FaceModels>, opts: AnalyzeVideoOptions): Promise<VideoAnalysis> {
  const sampling = { ...DEFAULT_SAMPLING, ...opts.sampling };
  const cfg = opts.config;
  const scale = Math.min(1, sampling.analysisLongSide / Math.max(info.width, info.height));
  const width = even(info.width * scale), height = even(info.height * scale);
  const sourceScale = info.width / width;
  const fps = info.fps > 0 && Number.isFinite(info.fps) ? info.fps : 30;
  // the whole frame (undefined) and the tiles, each remembered with the last frame it was searched
  const regions: (Box | undefined)[] = [undefined, ...squareTiles(width, height)];
  const lastLooked = regions.map(() => -1);
  const tiles = regions.length - 1;
  // a face is found at most this long after it appeared; the ring must reach back that far
  const discoveryMs = Math.max(sampling.detectEveryMs, tiles * sampling.tileEveryMs) + 2 * sampling.sampleEveryMs;
  const ring = new FrameRing(Math.ceil((fps * discoveryMs) / 1000) + 4);
  const cuts = new CutDetector();
  const observations = new Map<number, FrameObservation>();
  const usable = (s: FaceSighting) => judgeSighting(s, cfg, sourceScale).usable;
  /** First frame of the current shot: a face found later cannot have appeared before it. */
  let lastCut = 0;
  const boxes = (...lists: (readonly FaceSighting[] | undefined)[]) => lists.flatMap((l) => l?.map((f) => f.box) ?? []);

  const observeAt = async (frame: number, hints: readonly Box[], detectIn: readonly (Box | undefined)[] = [], embed = false): Promise<FrameObservation> => {
    const f = ring.get(frame);
    const faces = await observer.observe(ring.rgb(frame), { hints, detectIn, embed });
    const obs = { frame, timeMs: f.timeMs, cutBefore: f.cutBefore, faces };
    observations.set(frame, obs);
    return obs;
  };
  const sorted = (from: number, to: number) =>
    [...observations.values()].filter((o) => o.frame >= from && o.frame <= to).sort((a, b) => a.frame - b.frame);

  /** Bisects between two analysed frames until every change between them sits on adjacent frames. */
  const refineBetween = async (a: FrameObservation, b: FrameObservation): Promise<void> => {
    if (b.frame - a.frame <= 1 || !statesDiffer(a.faces, b.faces, usable)) return;
    const mid = await observeAt((a.frame + b.frame) >> 1, boxes(a.faces, b.faces));
    await refineBetween(a, mid);
    await refineBetween(mid, b);
  };

  /** Re-checks every pair of neighbouring analysed frames in [from, to]. */
  const refineRange = async (from: number, to: number): Promise<void> => {
    const frames = sorted(from, to);
    for (let i = 1; i < frames.length; i++) await refineBetween(frames[i - 1], frames[i]);
  };

  const seenAt = async (frame: number, face: FaceSighting): Promise<FaceSighting[]> => {
    const found = await observer.observe(ring.rgb(frame), { hints: [face.box], detectIn: [], embed: false });
    return found.filter((f) => sameFace(f.box, face.box));
  };

  /** A face the detector just found at `obs`: pin down when it appeared and add it to the frames since. */
  const backfill = async (face: FaceSighting, obs: FrameObservation, lookedBefore: number): Promise<void> => {
    let lo = Math.max(lookedBefore, obs.frame - ring.capacity + 1, lastCut - 1);
    let hi = obs.frame;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((await seenAt(mid, face)).length) hi = mid;
      else lo = mid;
    }
    if (hi === obs.frame) return;
    if (!observations.has(hi)) {
      const before = sorted(0, hi - 1).pop();
      await observeAt(hi, [...boxes(before?.faces), face.box]);
    }
    for (const o of sorted(hi, obs.frame - 1)) {
      if (o.faces.some((f) => sameFace(f.box, face.box))) continue;
      o.faces.push(...(await seenAt(o.frame, face)).filter((f) => !o.faces.some((g) => sameFace(g.box, f.box))));
    }
  };

  let last: FrameObservation | undefined;
  let lastDetectMs = -Infinity;
  let lastTileMs = -Infinity;
  let tileRounds = 0;
  let decoded = 0;
  let lastIndex = -1;
  let lastTimeMs = 0;
  const expectedMs = Math.max(1, info.durationMs);

  const decoder = decodeFrames(path, {
    width,
    height,
    info,
    signal: opts.signal,
    pixelFormat: 'yuv420p',
    skipLoopFilter: sampling.skipLoopFilter,
    skipNonReference: sampling.skipNonReference,
    // room for what ffmpeg decodes while the models load (~1 s), so it is not paused meanwhile
    prefetchBytes: PREFETCH_BYTES,
  });
  // asking for the first frame starts ffmpeg, which decodes ahead while the models finish loading
  const firstFrame = decoder.next();
  firstFrame.catch(() => undefined);
  let observer: FaceObserver;
  try {
    observer = new FaceObserver(await models);
  } catch (e) {
    await decoder.return(undefined);
    throw e;
  }
  const startedAt = performance.now();
  const waited = { ms: 0 };
  for await (const frame of resume(firstFrame, decoder, waited)) {
    decoded++;
    // the luma plane comes first in a yuv420p frame
    const cutBefore = cuts.push({ width, height, data: frame.data.subarray(0, width * height) }) && frame.index > 0;
    ring.push(frame.index, frame.timeMs, cutBefore, width, height, frame.data);
    lastIndex = frame.index;
    lastTimeMs = frame.timeMs;
    // half a frame early, so a frame that is due is not put off by rounded times
    if (last && !cutBefore && frame.timeMs - last.timeMs < sampling.sampleEveryMs - 500 / fps) continue;

    if (last && cutBefore) {
      // the last frame of the old shot, with appearances, so identity can be decided across the cut
      const before = last.frame === frame.index - 1 ? last : await observeAt(frame.index - 1, boxes(last.faces));
      await observer.embedInto(ring.rgb(before.frame), before.faces);
      await refineRange(last.frame, before.frame);
      lastCut = frame.index;
    }
    const detect = !last || cutBefore || frame.timeMs - lastDetectMs >= sampling.detectEveryMs;
    const tileDue = tiles > 0 && frame.timeMs - lastTileMs >= sampling.tileEveryMs;
    const detectIn = !detect ? [] : cutBefore || !last ? regions : [regions[0], ...(tileDue ? [regions[1 + (tileRounds % tiles)]] : [])];
    // a new shot shares nothing with the old one: look for faces afresh instead of following old ones
    const hints = cutBefore ? [] : boxes(last?.faces);
    const obs = await observeAt(frame.index, hints, detectIn, cutBefore);
    if (detect) {
      const looked = Math.min(...detectIn.map((r) => lastLooked[regions.indexOf(r)]));
      const fresh = obs.faces.filter((f) => !last?.faces.some((g) => sameFace(g.box, f.box)));
      await observer.embedInto(ring.rgb(obs.frame), fresh);
      if (last && !cutBefore) for (const face of fresh) await backfill(face, obs, looked);
      for (const r of detectIn) lastLooked[regions.indexOf(r)] = frame.index;
      lastDetectMs = frame.timeMs;
      if (detectIn.length > 1) {
        lastTileMs = frame.timeMs;
        tileRounds++;
      }
    }
    if (last && !cutBefore) await refineRange(last.frame, obs.frame);
    last = obs;
    opts.onProgress?.(Math.min(0.99, frame.timeMs / expectedMs));
  }

  if (last && lastIndex > last.frame) {
    const end = await observeAt(lastIndex, boxes(last.faces));
    await refineRange(last.frame, end.frame);
  }
  const videoEndMs = decoded ? videoEnd(lastTimeMs, info.durationMs, fps) : 0;
  if (process.env.KIRIN_DUMP) dumpObservations(observations);
  const result = analyzeObservations({ observations: [...observations.values()], videoEndMs, sourceScale }, cfg);
  opts.onProgress?.(1);
  return {
    result,
    analysisWidth: width,
    analysisHeight: height,
    sourceScale,
    skippedNonReference: sampling.skipNonReference,
    stats: {
      framesDecoded: decoded,
      framesAnalysed: observations.size,
      modelCalls: { ...observer.calls },
      decodeWaitMs: Math.round(waited.ms),
      analysisMs: Math.round(performance.now() - startedAt),
    },
  };
}

/** Goes on with a generator whose first result was already asked for; ends it however the loop ends. */
async function* resume<T>(first: Promise<IteratorResult<T>>, rest: AsyncGenerator<T>, waited: { ms: number }): AsyncGenerator<T> {
  try {
    let t = performance.now();
    for (let r = await first; !r.done; r = await rest.next()) {
      waited.ms += performance.now() - t;
      yield r.value;
      t = performance.now();
    }
  } finally {
    await rest.return(undefined);
  }
}

/** KIRIN_DUMP=1: every analysed frame and its faces on stderr, for tuning. */
function dumpObservations(observations: Map<number, FrameObservation>): void {
  for (const o of [...observations.values()].sort((a, b) => a.frame - b.frame)) {
    const faces = o.faces.map((s) => `[${[s.box.x, s.box.y, s.box.width, s.box.height].map(Math.round).join(',')}] c${s.confidence.toFixed(2)} yaw${s.yaw.toFixed(0)} pitch${s.pitch.toFixed(0)}${s.embedding ? ' emb' : ''}`);
    process.stderr.write(`${o.frame} ${o.timeMs}${o.cutBefore ? ' CUT' : ''} ${faces.join('  ')}\n`);
  }
}

/** Whether two analysed frames disagree: a face only in one of them, or a face usable in one only. */
function statesDiffer(a: readonly FaceSighting[], b: readonly FaceSighting[], usable: (s: FaceSighting) => boolean): boolean {
  if (a.length !== b.length) return true;
  const used = new Set<number>();
  for (const fa of a) {
    let best = -1, bestIou = -1;
    b.forEach((fb, j) => {
      const v = iou(fa.box, fb.box);
      if (!used.has(j) && sameFace(fa.box, fb.box) && v > bestIou) { best = j; bestIou = v; }
    });
    if (best < 0) return true;
    used.add(best);
    if (usable(fa) !== usable(b[best])) return true;
  }
  return false;
}

/**
 * Where the video stops being shown: the container's declared duration when it agrees with the
 * decoded frames (it is exact, and frames left out by skipNonReference may follow the last one
 * decoded), else the last frame's time plus a frame's duration.
 */
function videoEnd(lastFrameMs: number, declaredMs: number, fps: number): number {
  const frameMs = 1000 / fps;
  return declaredMs > lastFrameMs && declaredMs <= lastFrameMs + 4 * frameMs ? declaredMs : lastFrameMs + frameMs;
}
