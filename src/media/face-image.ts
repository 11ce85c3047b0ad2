import { rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCode, KirinError } from '../errors.ts';
import { ffmpegPath } from './binaries.ts';
import type { Box } from '../vision/geometry.ts';
import { probeVideo } from './probe.ts';
import { UNTRUSTED_INPUT_OPTIONS, localInput, runTool, stderrTail, toolFault, toolLimits } from './run-tool.ts';
import type { VideoInfo } from './types.ts';

export interface CutFaceImageOptions {
  /** Presentation time in ms from the first displayed frame (as DecodedFrame.timeMs). */
  timeMs: number;
  /** Face box in display pixels of the source video. */
  box: Box;
  /** Added on each side, as a fraction of the box's width/height. Default 0.4. */
  margin?: number;
  outFile: string;
  /** If the crop's longer side exceeds this, scale it down to this. Default: keep source resolution. */
  maxSide?: number;
  /** JPEG quality for ffmpeg's `-q:v` (2 best … 31 worst). Default 3. */
  quality?: number;
  info?: VideoInfo;
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * The frame at `timeMs` is one other frames refer to (as every frame decodeFrames emits with
   * skipNonReference): the frames no other frame refers to are not decoded on the way to it.
   */
  referenceFrame?: boolean;
  /** The frame at `timeMs` is a keyframe: it is decoded alone (a seek to just before it would start at the keyframe before). */
  keyframe?: boolean;
  /** Cut at a lower CPU priority (run-tool.ts), beside an analysis that should not wait for it. */
  background?: boolean;
}

/** The margin-enlarged box, rounded to whole pixels and clamped to the frame. */
export function cropRect(box: Box, margin: number, frameW: number, frameH: number): Box {
  const x0 = Math.max(0, Math.floor(box.x - box.width * margin));
  const y0 = Math.max(0, Math.floor(box.y - box.height * margin));
  const x1 = Math.min(frameW, Math.ceil(box.x + box.width * (1 + margin)));
  const y1 = Math.min(frameH, Math.ceil(box.y + box.height * (1 + margin)));
  if (x1 - x0 < 1 || y1 - y0 < 1) {
    throw new RangeError(`face box ${JSON.stringify(box)} lies outside the ${frameW}×${frameH} frame`);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Writes a JPEG crop (with margin) of the frame shown at `timeMs`, at source resolution. */
export async function cutFaceImage(path: string, opts: CutFaceImageOptions): Promise<void> {
  const info = opts.info ?? (await probeVideo(path, { signal: opts.signal }));
  const rect = cropRect(opts.box, opts.margin ?? 0.4, info.width, info.height);

  const filters = [`crop=${rect.width}:${rect.height}:${rect.x}:${rect.y}`];
  const longSide = Math.max(rect.width, rect.height);
  if (opts.maxSide && longSide > opts.maxSide) {
    const k = opts.maxSide / longSide;
    filters.push(`scale=${Math.max(1, Math.round(rect.width * k))}:${Math.max(1, Math.round(rect.height * k))}:flags=area`);
  }

  // `-ss` before `-i` counts from the container start, the first displayed video frame may come later.
  // Half a millisecond earlier so a timeMs rounded up still lands on its own frame, not the next.
  // A keyframe is sought half a millisecond later instead, and taken as the first frame decoded
  // there: the seek lands on it (the one before would cost every frame in between).
  const seekSec = Math.max(0, ((info.startOffsetMs ?? 0) + opts.timeMs + (opts.keyframe ? 0.5 : -0.5)) / 1000);
  const outFile = resolve(opts.outFile);
  const args = [
    '-nostdin', '-hide_banner', '-v', 'error', '-y',
    ...UNTRUSTED_INPUT_OPTIONS,
    ...(opts.referenceFrame ? ['-skip_frame', 'noref'] : []),
    // one decoding thread: the way from the keyframe to one frame is a chain that frame threads
    // cannot share out (two threads took as long, at up to 1.4× the CPU); pictures are cut two at a time
    '-threads', '1',
    ...(opts.keyframe ? ['-noaccurate_seek'] : []),
    '-ss', seekSec.toFixed(6),
    '-i', localInput(path),
    '-map', info.streamIndex !== undefined ? `0:${info.streamIndex}` : '0:v:0',
    '-an', '-sn', '-dn',
    '-frames:v', '1',
    '-vf', filters.join(','),
    '-q:v', String(opts.quality ?? 3),
    '-f', 'image2', '-update', '1',
    'file:' + outFile,
  ];
  await rm(outFile, { force: true });
  const timeoutMs = opts.timeoutMs ?? toolLimits().probeTimeoutMs;
  const res = await runTool(ffmpegPath(), args, { timeoutMs, signal: opts.signal, background: opts.background });
  const fault = toolFault('face image: ffmpeg', res, timeoutMs);
  if (fault) throw fault;
  if (res.exitCode !== 0) {
    throw new KirinError(ErrorCode.Internal, `face image: ffmpeg failed (${stderrTail(res.stderr, [path]) || `exit ${res.exitCode}`})`);
  }
  const written = await stat(outFile).catch(() => undefined);
  if (!written || written.size === 0) {
    throw new KirinError(
      ErrorCode.Internal,
      `face image: no frame at ${opts.timeMs} ms (video duration ${info.durationMs} ms)`,
    );
  }
}
