import { randomUUID } from 'node:crypto';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalysisConfig } from '../analysis/config.js';
import type { BestView, FaceSighting } from '../analysis/types.js';
import { DEFAULT_ENGINE, type EngineConfig } from '../config.js';
import { decoderOptions } from '../media/binaries.js';
import { cutFaceImage } from '../media/face-image.js';
import { frameTimes } from '../media/frame-times.js';
import type { VideoInfo } from '../media/types.js';
import { validateVideoFile } from '../media/validate.js';
import { loadFaceModels } from '../vision/models.js';
import { analyzeVideo, type VideoAnalysis } from './analyze-video.js';
import { EarlyPictures } from './early-pictures.js';
import type { SamplingOptions } from './scheduler.js';

export interface IdentifyFileOptions {
  /** Folder for the face pictures. */
  outDir: string;
  /** The engine's settings (default: the embedded defaults); `config` and `sampling` override parts of them. */
  engine?: EngineConfig;
  config?: Partial<AnalysisConfig>;
  sampling?: Partial<SamplingOptions>;
  /** Decode the soundtrack and say who is speaking (default true). */
  audio?: boolean;
  /** List the time of every frame too (one ffprobe pass beside the analysis), for per-frame tracks. */
  frameTimes?: boolean;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface FacePicture {
  file: string;
  /** Face box in source display pixels (without the picture's margin). */
  box: { x: number; y: number; width: number; height: number };
}

export interface IdentifiedVideo {
  info: VideoInfo;
  analysis: VideoAnalysis;
  /** One picture per accepted face, in face_id order. */
  pictures: FacePicture[];
  /** The time of every frame of the video (ms, ascending), when asked for. */
  frameTimesMs?: number[];
  /** How long cutting the pictures took (ms), after the analysis. */
  picturesMs: number;
}

/** Validates a local video file, analyses it and cuts a picture of every usable face. */
export async function identifyFile(path: string, opts: IdentifyFileOptions): Promise<IdentifiedVideo> {
  // the decoder's questions to ffmpeg, answered while the file is validated (a missing ffmpeg fails in the decoder, which asks again)
  decoderOptions().catch(() => undefined);
  const info = await validateVideoFile(path);
  opts.signal?.throwIfAborted();
  // the models load (once per process; ~1 s of work on this thread) while ffmpeg starts decoding:
  // loading them during validation instead would hold up ffprobe's answer and so the decoder
  const engine = opts.engine ?? DEFAULT_ENGINE;
  const models = loadFaceModels({ threads: engine.modelThreads });
  models.catch(() => undefined);
  const times = opts.frameTimes ? frameTimes(path, info, { signal: opts.signal }) : undefined;
  times?.catch(() => undefined);
  const sampling = { ...engine.sampling, ...opts.sampling };
  await mkdir(opts.outDir, { recursive: true });
  const batch = randomUUID().slice(0, 8);
  // whether the analysis decodes only the frames other frames refer to: set before its first frame, so before any picture is cut
  let referenceFrames = sampling.skipNonReference;
  const cut = (view: BestView, file: string, background = false) =>
    cutFaceImage(path, {
      timeMs: view.timeMs,
      box: pictureBox(view.sighting, info),
      outFile: file,
      info,
      signal: opts.signal,
      referenceFrame: referenceFrames,
      keyframe: view.fromKeyMs === 0,
      background,
    });
  // cut beside the analysis, so at a lower priority: the analysis is what the task waits for
  const early = new EarlyPictures((view, file) => cut(view, file, true), (n) => join(opts.outDir, `face_${batch}_early${n}.jpg`));
  try {
    const analysis = await analyzeVideo(path, info, models, {
      config: { ...engine.analysis, ...opts.config },
      sampling,
      audio: opts.audio ?? engine.speaking,
      signal: opts.signal,
      onProgress: opts.onProgress,
      onShotFaces: (faces) => early.offer(faces.map((f) => f.best)),
      onDecoding: (d) => {
        referenceFrames = d.skipNonReference;
      },
    });
    // each picture is one seek-and-decode by ffmpeg; two at a time keep both cores busy, the
    // longest decodes first (from their keyframe), so the short ones fill in beside them
    const faces = analysis.result.faces;
    const pictures: FacePicture[] = new Array(faces.length);
    const order = faces.map((_, i) => i).sort((a, b) => (faces[b].best.fromKeyMs ?? 0) - (faces[a].best.fromKeyMs ?? 0));
    let next = 0;
    const cutNext = async (): Promise<void> => {
      for (let k = next++; k < faces.length; k = next++) {
        const i = order[k];
        const face = faces[i];
        const file = join(opts.outDir, `face_${batch}_${face.faceId}.jpg`);
        const ready = await early.take(face.best);
        if (ready) await rename(ready, file);
        else await cut(face.best, file);
        pictures[i] = { file, box: pictureBox(face.best.sighting, info) };
      }
    };
    const cutStart = performance.now();
    const failed = (await Promise.allSettled([cutNext(), cutNext()])).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const picturesMs = Math.round(performance.now() - cutStart);
    return { info, analysis, pictures, picturesMs, ...(times ? { frameTimesMs: await times } : {}) };
  } finally {
    await early.settle();
  }
}

function pictureBox(s: FaceSighting, info: VideoInfo): FacePicture['box'] {
  const b = s.box;
  const x = Math.max(0, Math.round(b.x)), y = Math.max(0, Math.round(b.y));
  return {
    x,
    y,
    width: Math.max(1, Math.min(info.width - x, Math.round(b.width))),
    height: Math.max(1, Math.min(info.height - y, Math.round(b.height))),
  };
}
