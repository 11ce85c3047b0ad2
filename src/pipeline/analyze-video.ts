import { availableParallelism } from 'node:os';
import { analyzeObservations } from '../analysis/analyze.js';
import type { AnalysisConfig } from '../analysis/config.js';
import type { AnalysisResult, FrameObservation, VoiceActivity } from '../analysis/types.js';
import { judgeSighting } from '../analysis/usability.js';
import { decodeAudio, type AudioTrack } from '../media/audio.js';
import { decodeFrames } from '../media/decode.js';
import type { DecodedFrame, VideoInfo } from '../media/types.js';
import { squareTiles } from '../vision/geometry.js';
import type { FaceModels } from '../vision/models.js';
import { detectVoice, loadVoiceModel } from '../vision/voice-activity.js';
import { CutDetector } from '../vision/scene-cut.js';
import { lowerAnalysisPriority } from './analysis-priority.js';
import { FaceObserver, type LumaPair } from './face-observer.js';
import { MAX_SKIPPED, followFaces } from './follow-faces.js';
import { keepLipRate } from './lip-rate.js';
import { FrameRing, type BufferedFrame } from './frame-ring.js';
import { DEFAULT_SAMPLING, type SamplingOptions } from './scheduler.js';
import type { FrameMeta, ModelCalls } from './stages.js';

export interface VideoAnalysis {
  result: AnalysisResult;
  /** Every analysed frame and its faces (source pixels), in frame order. */
  observations: FrameObservation[];
  /** The soundtrack, when it was asked for and the video has one. */
  audio: AudioTrack | null;
  /** What the voice-activity model heard in it (undefined without a soundtrack). */
  voice: VoiceActivity | undefined;
  analysisWidth: number;
  analysisHeight: number;
  /** Only frames other frames refer to were decoded (so every sighting is on such a frame); see analyzeVideo for when every frame is. */
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
  /** Decode the soundtrack too (16 kHz mono), as its own stream. */
  audio?: boolean;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** Told the faces of each shot that ended at a hard cut, as the analysis core sees that shot alone (see early-pictures.ts). */
  onShotFaces?: (faces: AnalysisResult['faces']) => void;
  /**
   * Told, before the first frame is analysed, whether only the frames other frames refer to are
   * decoded (every sighting is then on such a frame), and told again (false) if every frame is
   * decoded from some point on.
   */
  onDecoding?: (decoding: { skipNonReference: boolean }) => void;
}

/** While voice is heard, every face's lips are measured this often (15 a second: enough for syllables). */
const LIP_EVERY_MS = 1000 / 15;
/**
 * Mouth movement is read between two frames about this far apart, whatever the frame rate (the
 * decoded frame nearest to it): the movement grows with the time between them, so its scale and
 * the rules that weigh it (speaking.ts) stay the same at 24, 25, 30 or 60 frames a second.
 */
const MOTION_SPAN_MS = 1000 / 15;
/** How many frames in a row the decoder gives out are judged, to tell whether the frames it leaves out are needed (lip-rate.ts). */
const PROBE_FRAMES = 9;

/** Decoded frames ffmpeg may run ahead of the analysis (memory: at most this many bytes). */
const PREFETCH_BYTES = 128 << 20;

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

/**
 * Decodes the video once (and its audio, when asked) and runs the stages over it: frames go
 * through a hard-cut detector into a ring buffer, followFaces decides what the models look at,
 * and the pure analysis core turns the analysed frames into faces and intervals.
 */
export async function analyzeVideo(path: string, info: VideoInfo, models: FaceModels | Promise<FaceModels>, opts: AnalyzeVideoOptions): Promise<VideoAnalysis> {
  const sampling = { ...DEFAULT_SAMPLING, ...opts.sampling };
  const cfg = opts.config;
  const scale = Math.min(1, sampling.analysisLongSide / Math.max(info.width, info.height));
  const width = even(info.width * scale), height = even(info.height * scale);
  const fps = info.fps > 0 && Number.isFinite(info.fps) ? info.fps : 30;
  // a face is found at most this long after it appeared (searches of a still picture are skipped, see follow-faces.ts); the ring must reach back that far
  const tiles = squareTiles(info.width, info.height).length;
  const discoveryMs = Math.max((1 + MAX_SKIPPED) * sampling.detectEveryMs, tiles * sampling.tileEveryMs) + 2 * sampling.sampleEveryMs;
  const ring = new FrameRing(Math.ceil((fps * discoveryMs) / 1000) + 4);
  const cuts = new CutDetector();
  const audio = opts.audio ? decodeAudio(path, info, { signal: opts.signal }) : Promise.resolve(null);
  audio.catch(() => undefined);
  // who is speaking: the voice model runs on the soundtrack while the video decoder starts
  const voice = audio.then(async (track) => (track ? detectVoice(await loadVoiceModel(), track) : undefined));
  voice.catch(() => undefined);

  const open = (skipNonReference: boolean) =>
    decodeFrames(path, {
      width,
      height,
      info,
      signal: opts.signal,
      pixelFormat: 'yuv420p',
      skipLoopFilter: sampling.skipLoopFilter,
      skipNonReference,
      // room for what ffmpeg decodes while the models load (~1 s), so it is not paused meanwhile
      prefetchBytes: PREFETCH_BYTES,
      threads: decodeThreads(),
    });
  let skipNonReference = sampling.skipNonReference;
  let decoder = open(skipNonReference);
  // asking for the first frame starts ffmpeg, which decodes ahead while the models finish loading
  const firstFrame = decoder.next();
  // ffmpeg is running once a frame is out: from then on it goes before this thread
  firstFrame.then(lowerAnalysisPriority, () => undefined);
  let observer: FaceObserver;
  try {
    // with a soundtrack, mouth movement (who is speaking) is read between each analysed frame and a decoded one ~67 ms before it
    observer = new FaceObserver(await models, (frame) => ring.rgb(frame), info.width / width, opts.audio && info.audio ? (frame) => lumaPairAt(ring, frame) : undefined);
  } catch (e) {
    await decoder.return(undefined);
    throw e;
  }
  const startedAt = performance.now();
  const waited = { ms: 0 };
  let decoded = 0;
  let keyMs = 0;
  const expectedMs = Math.max(1, info.durationMs);
  /**
   * The decoded frames: the reference frames, or every frame where those come too far apart to
   * follow the lips while a voice is heard (lip-rate.ts: every other frame at 24 or 25 frames a
   * second, 12 a second). The frames left out are about half the decoding of a typical file, so
   * a video without a voice, or with its reference frames close enough (30 frames a second and
   * up), is decoded as before.
   */
  async function* decodedFrames(): AsyncGenerator<DecodedFrame> {
    const source = resume(firstFrame, decoder, waited);
    if (!skipNonReference) {
      opts.onDecoding?.({ skipNonReference });
      yield* source;
      return;
    }
    const speech = opts.audio && info.audio ? await voice.then((v) => v?.speech ?? [], () => []) : [];
    yield* keepLipRate(source, {
      speech,
      everyMs: LIP_EVERY_MS,
      frameMs: 1000 / fps,
      probeFrames: PROBE_FRAMES,
      everyFrame: () => {
        decoder = open(false);
        return resume(decoder.next(), decoder, waited);
      },
      onDecoding: (referenceOnly) => {
        skipNonReference = referenceOnly;
        opts.onDecoding?.({ skipNonReference });
      },
    });
  }
  async function* frames(): AsyncGenerator<FrameMeta> {
    for await (const frame of decodedFrames()) {
      decoded++;
      // the luma plane comes first in a yuv420p frame
      const cutBefore = cuts.push({ width, height, data: frame.data.subarray(0, width * height) }) && frame.index > 0;
      ring.push(frame.index, frame.timeMs, cutBefore, width, height, frame.data, frame.release);
      if (frame.key) keyMs = frame.timeMs;
      yield { index: frame.index, timeMs: frame.timeMs, cutBefore, fromKeyMs: frame.timeMs - keyMs, thumb: cuts.last };
      opts.onProgress?.(Math.min(0.99, frame.timeMs / expectedMs));
    }
  }

  let followed: Awaited<ReturnType<typeof followFaces>>;
  try {
    followed = await followFaces(frames(), observer, {
      sampling,
      width: info.width,
      height: info.height,
      frameMs: 1000 / fps,
      oldestAvailable: (newest) => newest - ring.capacity + 1,
      usable: (s) => judgeSighting(s, cfg).usable,
      lips: opts.audio ? { everyMs: LIP_EVERY_MS, speech: voice.then((v) => v?.speech ?? []) } : undefined,
      onShotEnd: opts.onShotFaces && ((observations, endMs) => opts.onShotFaces!(analyzeObservations({ observations, videoEndMs: endMs }, cfg).faces)),
    });
  } catch (e) {
    // a soundtrack that fails before the first frame leaves the decoder unread
    await decoder.return(undefined);
    throw e;
  }
  const videoEndMs = followed.lastFrame ? videoEnd(followed.lastFrame.timeMs, info.durationMs, fps) : 0;
  const heard = await voice;
  const result = analyzeObservations({ observations: followed.observations, videoEndMs, voice: heard }, cfg);
  const track = await audio;
  opts.onProgress?.(1);
  return {
    result,
    observations: followed.observations,
    audio: track,
    voice: heard,
    analysisWidth: width,
    analysisHeight: height,
    skippedNonReference: skipNonReference,
    stats: {
      framesDecoded: decoded,
      framesAnalysed: followed.observations.length,
      modelCalls: { ...observer.calls },
      decodeWaitMs: Math.round(waited.ms),
      analysisMs: Math.round(performance.now() - startedAt),
    },
  };
}

/**
 * ffmpeg's decoding threads: every core but the one the models run on (this thread). ffmpeg's
 * own choice (cores + 1) makes its threads and the models take turns on that core; on 2 cores
 * one decoding thread took 2–3% less time over videos with faces, 5% more over a faceless one
 * (README, design notes).
 */
function decodeThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** The frame's luma plane and that of the decoded frame about MOTION_SPAN_MS before it, unless a cut lies between. */
function lumaPairAt(ring: FrameRing, frame: number): LumaPair | undefined {
  const now = ring.get(frame);
  let before: BufferedFrame | undefined;
  for (let k = frame - 1, later = now; k >= 0 && !later.cutBefore && ring.has(k); k--) {
    const f = ring.get(k);
    if (before && Math.abs(now.timeMs - f.timeMs - MOTION_SPAN_MS) >= Math.abs(now.timeMs - before.timeMs - MOTION_SPAN_MS)) break;
    before = later = f;
  }
  return before && { now: lumaOf(now), before: lumaOf(before), gapMs: now.timeMs - before.timeMs };
}

/** The luma plane comes first in a yuv420p frame. */
const lumaOf = (f: BufferedFrame) => ({ width: f.width, height: f.height, data: f.yuv.subarray(0, f.width * f.height) });

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

/**
 * Where the video stops being shown: the container's declared duration when it agrees with the
 * decoded frames (it is exact, and frames left out by skipNonReference may follow the last one
 * decoded), else the last frame's time plus a frame's duration.
 */
function videoEnd(lastFrameMs: number, declaredMs: number, fps: number): number {
  const frameMs = 1000 / fps;
  return declaredMs > lastFrameMs && declaredMs <= lastFrameMs + 4 * frameMs ? declaredMs : lastFrameMs + frameMs;
}
