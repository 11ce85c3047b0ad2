import { ErrorCode, KirinError } from '../errors.ts';
import { decoderOptions, ffmpegPath } from './binaries.ts';
import { probeVideo } from './probe.ts';
import { spawnOffThread } from './off-thread-process.ts';
import { UNTRUSTED_INPUT_OPTIONS, localInput, stderrTail, toolCommand, toolFault, toolLimits } from './run-tool.ts';
import type { DecodedFrame, VideoInfo } from './types.ts';

export interface DecodeOptions {
  /** Output frame size; the caller picks one with the display aspect ratio. */
  width: number;
  height: number;
  signal?: AbortSignal;
  /** Wall-clock limit for the whole decode; ffmpeg is killed when it passes. Default 10 min. */
  timeoutMs?: number;
  /** The file's VideoInfo if already probed (saves one ffprobe run). */
  info?: VideoInfo;
  /**
   * Skip the codec's in-loop deblocking filter: about a fifth less decoding work, at the price of
   * faint block edges in the frames (harmless at analysis size; face pictures are cut separately).
   */
  skipLoopFilter?: boolean;
  /**
   * Do not decode frames that no other frame refers to (most B-frames of a typical H.264 file):
   * nearly half the decoding work of such a file, at the price of a coarser timeline (the frames
   * emitted are no longer consecutive, so `index` counts emitted frames). A file without such
   * frames is decoded whole.
   */
  skipNonReference?: boolean;
  /**
   * 'rgb24' (default): packed RGB, 3 bytes a pixel. 'yuv420p': planar Y, then U and V at half
   * size (1.5 bytes a pixel; width and height must be even) — less work for ffmpeg and the pipe.
   */
  pixelFormat?: 'rgb24' | 'yuv420p';
  /** Bytes of decoded frames held ahead of the consumer (at least two frames). Default 64 MB. */
  prefetchBytes?: number;
  /** ffmpeg's decoding threads (default: ffmpeg's own choice, one more than the cores). */
  threads?: number;
}

/**
 * Streams the video's frames as packed RGB24 at opts.width×opts.height, in display orientation,
 * each decoded frame exactly once, in presentation order.
 *
 * `timeMs` is the frame's real presentation time relative to the first displayed frame (so 0 for
 * the first): ffmpeg's `showinfo` filter logs every frame's pts on stderr just before the frame
 * is written to stdout, and the n-th log line is paired with the n-th frame.
 *
 * Every frame's `data` is a buffer of its own: the caller may keep it (no copy needed), or hand it
 * back with `release()` when done, so the next frame is written there instead of in fresh memory. ffmpeg's
 * output is read by another thread (off-thread-process.ts), so a busy caller never stalls ffmpeg
 * on a full pipe; up to `prefetchBytes` of frames wait for the caller.
 *
 * Throws KirinError 014001108 if ffmpeg fails or the decoded frames end clearly before the declared
 * duration (a truncated file) or needs more than the memory limit, 014002095 if ffmpeg hangs or
 * crashes (run-tool.ts). On abort or timeout ffmpeg is killed (SIGKILL); breaking out of a `for await`
 * loop kills it too.
 */
export async function* decodeFrames(path: string, opts: DecodeOptions): AsyncGenerator<DecodedFrame> {
  const { width, height, signal } = opts;
  const pixelFormat = opts.pixelFormat ?? 'rgb24';
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`decode size must be positive integers, got ${width}×${height}`);
  }
  if (pixelFormat === 'yuv420p' && (width % 2 || height % 2)) {
    throw new RangeError(`yuv420p frames need an even size, got ${width}×${height}`);
  }
  const timeoutMs = opts.timeoutMs ?? toolLimits().decodeTimeoutMs;
  signal?.throwIfAborted();
  const info = opts.info ?? (await probeVideo(path, { signal }));
  signal?.throwIfAborted();

  const { showinfo, syncArgs } = await decoderOptions();
  const filters = [
    // One swscale pass (resize and convert to RGB): fast_bilinear costs least of the scalers
    // measured here on 1080p → 640×360, and the face models work on far smaller crops anyway.
    `scale=${width}:${height}:flags=fast_bilinear`,
    `format=${pixelFormat}`,
    // Last, so it sees exactly the frames that reach stdout.
    showinfo,
  ];
  const args = [
    '-nostdin', '-hide_banner', '-nostats',
    // showinfo logs at info level; errors still end up in the stderr tail.
    '-loglevel', 'info',
    ...UNTRUSTED_INPUT_OPTIONS,
    ...(opts.skipLoopFilter ? ['-skip_loop_filter', 'all'] : []),
    ...(opts.skipNonReference ? ['-skip_frame', 'noref'] : []),
    ...(opts.threads ? ['-threads', String(opts.threads)] : []),
    '-i', localInput(path),
    '-map', info.streamIndex !== undefined ? `0:${info.streamIndex}` : '0:v:0',
    '-an', '-sn', '-dn',
    // No frame duplicated or dropped to force a constant rate.
    ...syncArgs,
    '-vf', filters.join(','),
    '-f', 'rawvideo', '-pix_fmt', pixelFormat,
    'pipe:1',
  ];

  const frameBytes = pixelFormat === 'yuv420p' ? (width * height * 3) / 2 : width * height * 3;
  // read by another thread: ffmpeg never waits on a full pipe while this thread runs the models
  const child = spawnOffThread(...toolCommand(ffmpegPath(), args), frameBytes);
  let spawnError: Error | undefined;
  let timedOut = false;
  let aborted = false;
  const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, sig) => resolve({ code, sig }));
  });
  child.on('error', (err) => {
    spawnError = err;
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // After a long block of this thread (a model loading) the timer and ffmpeg's exit are both
  // due: let the exit, if any, be heard first (setImmediate runs after pending I/O), so a crash
  // or a finished decode is not taken for a timeout.
  const timer = setTimeout(() => {
    setImmediate(() => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      timedOut = true;
      kill();
    });
  }, timeoutMs);
  const onAbort = () => {
    aborted = true;
    kill();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  // --- stderr: per-frame pts from showinfo, everything else kept as a tail for error messages.
  const ptsSec: number[] = [];
  const keys: boolean[] = [];
  let timeBase: [number, number] | undefined;
  let stderrDone = false;
  let otherLines: string[] = [];
  let partial = '';
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onLine = (line: string) => {
    if (line.includes('Parsed_showinfo')) {
      const m = / n:\s*\d+\s+pts:\s*(\S+)\s+pts_time:\s*(\S+)/.exec(line);
      if (m) {
        const pts = Number(m[1]);
        keys.push(/ iskey:1 /.test(line));
        ptsSec.push(
          timeBase && Number.isFinite(pts) ? (pts * timeBase[0]) / timeBase[1] : Number(m[2]), // NaN if NOPTS
        );
        return;
      }
      const tb = /config in time_base:\s*(\d+)\/(\d+)/.exec(line);
      if (tb && Number(tb[2]) > 0) timeBase = [Number(tb[1]), Number(tb[2])];
      return;
    }
    // Banner, stream listing and metadata (indented) are not worth quoting in an error.
    if (/^\s|^(Input #|Output #|Stream mapping|Press \[q\]|video:|frame=)/.test(line)) return;
    otherLines.push(line);
    if (otherLines.length > 200) otherLines = otherLines.slice(-50);
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    const lines = (partial + s).split(/\r?\n|\r/);
    partial = lines.pop() ?? '';
    for (const l of lines) onLine(l);
    notify();
  });
  child.stderr.on('close', () => {
    if (partial) onLine(partial);
    partial = '';
    stderrDone = true;
    notify();
  });

  const prefetch = Math.max(2, Math.floor((opts.prefetchBytes ?? 64 << 20) / frameBytes));
  const fallbackStepSec = 1 / (info.fps > 0 ? info.fps : 30);
  let emitted = 0;
  let firstPts: number | undefined;
  let prevPts: number | undefined;
  let prevTimeMs = 0;
  let lastIntervalMs = 0;

  const ptsOf = async (k: number): Promise<number> => {
    while (ptsSec.length <= k && !stderrDone) {
      await new Promise<void>((r) => (wake = r));
    }
    const v = ptsSec[k];
    if (v !== undefined && Number.isFinite(v)) return v;
    // No pts logged for this frame (should not happen): assume a nominal frame step.
    return prevPts === undefined ? 0 : prevPts + fallbackStepSec;
  };

  // Read stdout eagerly into a bounded queue so ffmpeg keeps decoding while the consumer works
  // on earlier frames (a pipe holds far less than one frame; pulling on demand would stall it).
  const queue: Uint8Array[] = [];
  let stdoutDone = false;
  let wakeConsumer: (() => void) | undefined;
  const wakeUp = () => {
    const w = wakeConsumer;
    wakeConsumer = undefined;
    w?.();
  };
  // the reader thread hands on whole frames, each in a buffer of its own (a cut-off last frame is dropped there)
  child.stdout.on('data', (chunk: Buffer) => {
    if (chunk.length !== frameBytes) {
      spawnError ??= new Error(`decode: a block of ${chunk.length} bytes, not a frame of ${frameBytes}`);
      return kill();
    }
    queue.push(chunk);
    if (queue.length >= prefetch) child.stdout.pause();
    wakeUp();
  });
  child.stdout.on('close', () => {
    stdoutDone = true;
    wakeUp();
  });
  const nextFrame = async (): Promise<Uint8Array | undefined> => {
    while (queue.length === 0 && !stdoutDone && !aborted && !timedOut) await new Promise<void>((r) => (wakeConsumer = r));
    const f = queue.shift();
    if (queue.length < prefetch / 2 && child.stdout.isPaused()) child.stdout.resume();
    return f;
  };

  try {
    for (let data = await nextFrame(); data && !aborted && !timedOut; data = await nextFrame()) {
      const pts = await ptsOf(emitted);
      if (firstPts === undefined) firstPts = pts;
      const timeMs = Math.round((pts - firstPts) * 1000);
      if (emitted > 0) lastIntervalMs = timeMs - prevTimeMs;
      prevPts = pts;
      prevTimeMs = timeMs;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        child.recycle(data);
      };
      const out: DecodedFrame = { index: emitted, timeMs, key: keys[emitted] === true, width, height, data, release };
      emitted++;
      yield out;
    }

    const { code, sig } = await exited;
    if (aborted) throw signal?.reason ?? new Error('decode aborted');
    if (spawnError) throw spawnError;
    const fault = toolFault('ffmpeg (decoding)', { exitSignal: sig, timedOut, stderr: otherLines.join('\n') }, timeoutMs);
    if (fault) throw fault;
    const tail = stderrTail(otherLines.join('\n'), [path]);
    if (code !== 0) {
      throw new KirinError(
        ErrorCode.Unreadable,
        `video is unreadable: ffmpeg failed after ${emitted} frames (${tail || `exit ${code}`})`,
      );
    }
    if (emitted === 0) {
      throw new KirinError(ErrorCode.Unreadable, `video is unreadable: no frame could be decoded${tail ? ` (${tail})` : ''}`);
    }
    const endMs = prevTimeMs + (emitted > 1 ? lastIntervalMs : Math.round(fallbackStepSec * 1000));
    const tolerance = Math.max(500, info.durationMs * 0.1);
    if (endMs < info.durationMs - tolerance) {
      throw new KirinError(
        ErrorCode.Unreadable,
        `video is unreadable: decoded frames end at ${(endMs / 1000).toFixed(2)} s but the file declares ` +
          `${(info.durationMs / 1000).toFixed(2)} s (more than ${(tolerance / 1000).toFixed(2)} s missing; truncated or corrupt)`,
      );
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    kill();
    child.stdout.destroy();
    child.stderr.destroy();
  }
}
