/**
 * Builds test videos with ffmpeg at test time (no fixtures in the repo).
 *
 *   const tmp = await makeTempDir();
 *   const clip = await makeVideo({ out: tmp.file('a.mp4'), width: 1280, height: 720, seconds: 3 });
 *   const faces = await makeSegmentsVideo({ out: tmp.file('f.mp4'), segments: [
 *     { seconds: 1, blank: true }, { seconds: 3, image: sampleImage(1) }, { seconds: 2, images: [sampleImage(2), sampleImage(3)] },
 *   ] });
 *   await tmp.cleanup();
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, truncate, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpegPath, ffprobePath, passthroughSyncArgs } from '../../src/media/binaries.ts';
import { childBoxes } from './mp4-boxes.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Path of a face-api demo photo, n = 1…6 (node_modules/@vladmandic/face-api/demo/sampleN.jpg). */
export function sampleImage(n: 1 | 2 | 3 | 4 | 5 | 6): string {
  return join(repoRoot, 'node_modules', '@vladmandic', 'face-api', 'demo', `sample${n}.jpg`);
}

export interface TempDir {
  dir: string;
  file(name: string): string;
  cleanup(): Promise<void>;
}

export async function makeTempDir(prefix = 'kirin-test-'): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    dir,
    file: (name) => join(dir, name),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

function run(bin: string, args: string[], maxBuffer = 64 * 1024 * 1024): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((res, rej) => {
    execFile(bin, args, { encoding: 'buffer', maxBuffer }, (err, stdout, stderr) => {
      if (err) {
        rej(new Error(`${bin} ${args.join(' ')}\n${stderr.toString('utf8').slice(-2000)}`));
      } else {
        res({ stdout, stderr: stderr.toString('utf8') });
      }
    });
  });
}

/** Runs ffmpeg with `-v error -y` prepended; rejects with its stderr. */
export async function ffmpeg(args: string[]): Promise<Buffer> {
  return (await run(ffmpegPath(), ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args])).stdout;
}

/** ffprobe -show_format -show_streams as parsed JSON (add e.g. '-show_frames' via extra). */
export async function probeJson(file: string, extra: string[] = []): Promise<any> {
  const { stdout } = await run(ffprobePath(), ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...extra, file]);
  return JSON.parse(stdout.toString('utf8'));
}

type Container = 'mp4' | 'mov' | 'webm';

function containerOf(out: string, container?: Container): Container {
  if (container) return container;
  const ext = extname(out).toLowerCase();
  if (ext === '.mov') return 'mov';
  if (ext === '.webm') return 'webm';
  return 'mp4';
}

export interface EncodeOptions {
  /** Default libx264 for mp4/mov, libvpx (VP8) for webm. */
  codec?: string;
  /** Default from the file extension (.mov → QuickTime brand 'qt  ', .webm → WebM), else mp4. */
  container?: Container;
  /** x264 preset, default 'ultrafast'. */
  preset?: string;
  crf?: number;
  /** e.g. '50k'; overrides crf. */
  bitrate?: string;
  /** moov before mdat. Default false (ffmpeg's default: moov at the end). */
  faststart?: boolean;
}

function encodeArgs(o: EncodeOptions, out: string, fps: number): string[] {
  const container = containerOf(out, o.container);
  const codec = o.codec ?? (container === 'webm' ? 'libvpx' : 'libx264');
  const args = ['-c:v', codec];
  if (codec === 'libx264') args.push('-preset', o.preset ?? 'ultrafast');
  if (codec === 'libvpx' || codec === 'libvpx-vp9') args.push('-deadline', 'realtime', '-cpu-used', '8');
  if (o.bitrate) args.push('-b:v', o.bitrate);
  else if (codec === 'libx264') args.push('-crf', String(o.crf ?? 23));
  else if (codec.startsWith('libvpx')) args.push('-b:v', '300k');
  args.push('-pix_fmt', 'yuv420p', '-g', String(Math.max(1, Math.round(fps * 2))));
  if (o.faststart && container !== 'webm') args.push('-movflags', '+faststart');
  args.push('-f', container === 'mp4' ? 'mp4' : container);
  return args;
}

export interface MakeVideoOptions extends EncodeOptions {
  out: string;
  /** Coded size. Default 320×240. */
  width?: number;
  height?: number;
  fps?: number;
  seconds?: number;
  /**
   * 'testsrc2' (default, moving pattern), 'frameramp' (flat gray whose luma is 16 + 6×frame number up to frame 36,
   * so a frame can be identified from its pixels), 'color' (flat `color`), or a path to an image
   * (scaled to fit, centred on a gray canvas).
   */
  source?: 'testsrc2' | 'frameramp' | 'color' | string;
  color?: string;
  /** Display-matrix rotation in degrees as ffmpeg reports it (counter-clockwise): 90 → a 1280×720 file displays 720×1280. */
  rotate?: 0 | 90 | 180 | 270;
  /** Add an AAC sine audio track (as long as the video plus videoDelaySec). */
  audio?: boolean;
  /** Only an AAC audio track, no video. */
  audioOnly?: boolean;
  /** The video stream starts this many seconds after the audio (implies audio). */
  videoDelaySec?: number;
  /** Shift all timestamps so the file starts at this time (`-output_ts_offset`). */
  startTimeSec?: number;
  /** Extra output options, placed before the output file. */
  extraArgs?: string[];
}

/** Encodes a synthetic video (exactly round(seconds×fps) frames) and returns `out`. */
export async function makeVideo(o: MakeVideoOptions): Promise<string> {
  const width = o.width ?? 320;
  const height = o.height ?? 240;
  const fps = o.fps ?? 30;
  const seconds = o.seconds ?? 2;
  const frames = Math.round(seconds * fps);
  const container = containerOf(o.out, o.container);

  if (o.audioOnly) {
    await ffmpeg(['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, '-c:a', 'aac', '-f', container, o.out]);
    return o.out;
  }

  const size = `${width}x${height}`;
  const input: string[] = [];
  const source = o.source ?? 'testsrc2';
  const synthetic = source === 'testsrc2' || source === 'frameramp' || source === 'color';
  if (o.videoDelaySec && synthetic) input.push('-itsoffset', String(o.videoDelaySec));
  if (source === 'testsrc2') {
    input.push('-f', 'lavfi', '-i', `testsrc2=s=${size}:r=${fps}`);
  } else if (source === 'frameramp') {
    input.push('-f', 'lavfi', '-i', `color=c=black:s=${size}:r=${fps},geq=lum='min(235,16+6*N)':cb=128:cr=128`);
  } else if (source === 'color') {
    input.push('-f', 'lavfi', '-i', `color=c=${o.color ?? 'gray'}:s=${size}:r=${fps}`);
  } else {
    input.push('-i', source);
  }
  // An image is decoded and fitted once, then repeated; frame N gets pts N (+ the delay) in a 1/fps base.
  const delayFrames = Math.round((o.videoDelaySec ?? 0) * fps);
  const vf = synthetic
    ? []
    : ['-vf', `${fitFilter(width, height, o.color ?? 'gray')},loop=loop=-1:size=1,settb=1/${fps},setpts=N+${delayFrames},fps=${fps}`];

  const withAudio = o.audio || o.videoDelaySec;
  if (withAudio) input.push('-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds + (o.videoDelaySec ?? 0)}`);

  const args = [
    ...input,
    '-map', '0:v',
    ...(withAudio ? ['-map', '1:a', '-c:a', container === 'webm' ? 'libopus' : 'aac'] : []),
    ...vf,
    '-frames:v', String(frames),
    // Keep timestamps as made: no frames duplicated to fill a delayed start.
    ...(await passthroughSyncArgs()),
    ...encodeArgs(o, o.out, fps),
    ...(o.startTimeSec ? ['-output_ts_offset', String(o.startTimeSec)] : []),
    ...(o.extraArgs ?? []),
    o.out,
  ];
  await ffmpeg(args);
  if (o.rotate) await setRotation(o.out, o.rotate);
  return o.out;
}

/** Scale to fit inside w×h keeping aspect ratio, centred on a `color` canvas of exactly w×h. */
function fitFilter(w: number, h: number, color: string): string {
  return (
    `scale=${w}:${h}:force_original_aspect_ratio=decrease,format=rgb24,` +
    `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=${color},setsar=1`
  );
}

export interface Segment {
  seconds: number;
  /** One image, scaled to fit (times `fit`) and centred. */
  image?: string;
  /** Two images side by side, each fitted into its half of the canvas. */
  images?: [string, string];
  /** A plain frame of the background colour (or `color`). */
  blank?: boolean;
  color?: string;
  /** Fraction of the slot the image may fill (0–1], default 1. */
  fit?: number;
}

export interface MakeSegmentsOptions extends EncodeOptions {
  out: string;
  segments: Segment[];
  /** Canvas size, default 1280×720. */
  width?: number;
  height?: number;
  fps?: number;
  /** Canvas colour, default 'gray'. */
  background?: string;
}

/**
 * Builds a video from still segments in play order. Every segment lasts exactly round(seconds×fps)
 * frames, so segment k starts at frame sum(round(seconds_i×fps), i<k) — on a frame boundary.
 * Returns the start time in ms of each segment (frame index × 1000/fps) and the output path.
 */
export async function makeSegmentsVideo(o: MakeSegmentsOptions): Promise<{ out: string; segmentStartsMs: number[]; frames: number }> {
  const W = o.width ?? 1280;
  const H = o.height ?? 720;
  const fps = o.fps ?? 30;
  const bg = o.background ?? 'gray';
  const inputs: string[] = [];
  const chains: string[] = [];
  const labels: string[] = [];
  const starts: number[] = [];
  let frameCursor = 0;
  let nInputs = 0;
  // Each image is read and fitted once, then repeated by the loop filter (much faster than `-loop 1`).
  const addImage = (path: string) => {
    inputs.push('-i', path);
    return nInputs++;
  };
  // Frame N gets pts N in a 1/fps time base: exact, and the same base for every segment.
  const frameClock = `settb=1/${fps},setpts=N`;
  const repeat = `loop=loop=-1:size=1,${frameClock}`;

  o.segments.forEach((seg, k) => {
    const frames = Math.round(seg.seconds * fps);
    if (frames < 1) throw new Error(`segment ${k} is shorter than one frame`);
    starts.push(Math.round((frameCursor * 1000) / fps));
    frameCursor += frames;
    const fit = seg.fit ?? 1;
    const tail = `trim=end_frame=${frames},format=yuv420p[s${k}]`;
    if (seg.images) {
      const halfW = Math.floor(W / 2);
      const [a, b] = seg.images.map((p) => addImage(p));
      const slot = (i: number, name: string) =>
        `[${i}:v]${fitFilter(even(halfW * fit), even(H * fit), bg)},pad=${halfW}:${H}:(ow-iw)/2:(oh-ih)/2:color=${bg}[${name}]`;
      chains.push(slot(a, `l${k}`), slot(b, `r${k}`));
      chains.push(`[l${k}][r${k}]hstack=inputs=2,pad=${W}:${H}:0:0:color=${bg},${repeat},${tail}`);
    } else if (seg.image) {
      const i = addImage(seg.image);
      chains.push(`[${i}:v]${fitFilter(even(W * fit), even(H * fit), bg)},pad=${W}:${H}:(ow-iw)/2:(oh-ih)/2:color=${bg},${repeat},${tail}`);
    } else {
      chains.push(`color=c=${seg.color ?? bg}:s=${W}x${H}:r=${fps},${frameClock},${tail}`);
    }
    labels.push(`[s${k}]`);
  });
  chains.push(`${labels.join('')}concat=n=${labels.length}:v=1:a=0[out]`);

  await ffmpeg([
    ...inputs,
    '-filter_complex', chains.join(';'),
    '-map', '[out]',
    // Timestamps are already exact (frame N at N/fps), so constant rate neither drops nor repeats.
    '-r', String(fps),
    ...encodeArgs(o, o.out, fps),
    o.out,
  ]);
  return { out: o.out, segmentStartsMs: starts, frames: frameCursor };
}

function even(n: number): number {
  return Math.max(2, Math.floor(n / 2) * 2);
}

/**
 * A variable-frame-rate video: parts played back to back, each at its own rate
 * (e.g. [{fps: 30, seconds: 1}, {fps: 15, seconds: 1}]). Timestamps are kept as made.
 */
export async function makeVfrVideo(
  o: EncodeOptions & { out: string; parts: Array<{ fps: number; seconds: number }>; width?: number; height?: number },
): Promise<string> {
  const size = `${o.width ?? 320}x${o.height ?? 240}`;
  const chains = o.parts.map(
    (p, k) => `testsrc2=s=${size}:r=${p.fps},trim=end_frame=${Math.round(p.fps * p.seconds)},setpts=PTS-STARTPTS[p${k}]`,
  );
  chains.push(`${o.parts.map((_, k) => `[p${k}]`).join('')}concat=n=${o.parts.length}:v=1:a=0[out]`);
  await ffmpeg([
    '-filter_complex', chains.join(';'),
    '-map', '[out]',
    ...(await passthroughSyncArgs()),
    ...encodeArgs(o, o.out, Math.max(...o.parts.map((p) => p.fps))),
    o.out,
  ]);
  return o.out;
}

/**
 * Sets the display matrix of the file's video track(s) to a rotation (degrees, counter-clockwise as
 * ffmpeg reports it) by patching the `tkhd` box in place; works the same whatever the ffmpeg version.
 */
export async function setRotation(file: string, degrees: number): Promise<void> {
  const buf = await readFile(file);
  const rad = (degrees * Math.PI) / 180;
  const cos = Math.round(Math.cos(rad));
  const sin = Math.round(Math.sin(rad));
  const matrix = [cos * 0x10000, -sin * 0x10000, 0, sin * 0x10000, cos * 0x10000, 0, 0, 0, 0x40000000];
  let patched = 0;
  const walk = (start: number, end: number, inVideoTrak: boolean) => {
    for (const box of childBoxes(buf, start, end)) {
      const body = box.start + box.header;
      if (box.type === 'moov') walk(body, box.end, false);
      if (box.type === 'trak' && isVideoTrak(body, box.end)) walk(body, box.end, true);
      if (box.type === 'tkhd' && inVideoTrak) {
        const mOff = body + (buf[body] === 1 ? 52 : 40); // version 1 has 64-bit times
        matrix.forEach((v, i) => buf.writeInt32BE(v | 0, mOff + i * 4));
        patched++;
      }
    }
  };
  const isVideoTrak = (start: number, end: number): boolean => {
    const i = buf.indexOf('hdlr', start, 'latin1');
    // hdlr: size(4) type(4) version/flags(4) pre_defined(4) handler_type(4)
    return i >= 0 && i < end && buf.toString('latin1', i + 12, i + 16) === 'vide';
  };
  walk(0, buf.length, false);
  if (!patched) throw new Error(`setRotation: no video tkhd found in ${file}`);
  await writeFile(file, buf);
}

/** Cuts the file to `fraction` of its size (keeps the head). */
export async function truncateTo(file: string, fraction: number): Promise<void> {
  const { size } = await stat(file);
  await truncate(file, Math.floor(size * fraction));
}

/** Extends a file to `bytes` with a sparse zero tail (instant, takes no disk space). */
export async function padTo(file: string, bytes: number): Promise<void> {
  await truncate(file, bytes);
}
