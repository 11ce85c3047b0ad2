import { open, stat } from 'node:fs/promises';
import { ErrorCode, KirinError } from '../errors.ts';
import { sniffContainerBytes } from './container.ts';
import { probeVideo } from './probe.ts';
import type { VideoInfo } from './types.ts';

export interface VideoLimits {
  maxBytes: number;
  minDurationMs: number;
  maxDurationMs: number;
  /** Bounds for each display side (width and height). */
  minSide: number;
  maxSide: number;
  /** The shorter display side must be one of these (720p, 1080p). */
  allowedShortSides: readonly number[];
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<VideoLimits> = Object.freeze({
  // "100 MB" is read as 100 MiB (104 857 600 bytes), the larger reading, so no file a client
  // measures as ≤ 100 MB is refused. Messages state the size in MiB and in bytes.
  maxBytes: 100 * MiB,
  minDurationMs: 2_000,
  maxDurationMs: 60_000,
  minSide: 512,
  maxSide: 2160,
  allowedShortSides: Object.freeze([720, 1080]),
});

/**
 * Applies the input rules of CONTRACT.md §3 to a local file and returns its VideoInfo.
 * Order: size (stat only) → container bytes → readable video stream → duration →
 * 720p/1080p short side (014001106) → each side within bounds (014001107).
 * 106 goes before 107 so that a too-small video such as 640×360 is reported as "not 720p/1080p",
 * the rule a client most likely broke; 107 then catches an over-long side (e.g. 2400×1080).
 */
export async function validateVideoFile(
  path: string,
  limits: Partial<VideoLimits> = DEFAULT_LIMITS,
  opts: { signal?: AbortSignal } = {},
): Promise<VideoInfo> {
  const lim: VideoLimits = { ...DEFAULT_LIMITS, ...limits };

  const { size } = await statReadable(path);
  if (size > lim.maxBytes) {
    throw new KirinError(
      ErrorCode.FileTooLarge,
      `file size ${fmtMiB(size)} MB (${size} bytes) exceeds the ${fmtMiB(lim.maxBytes)} MB limit (${lim.maxBytes} bytes)`,
    );
  }

  const head = await readHead(path, 16);
  const format = sniffContainerBytes(head);
  if (!format) {
    throw new KirinError(ErrorCode.NotMp4OrMov, `container is ${describeBytes(head)}, must be MP4 or MOV`);
  }

  const info = await probeVideo(path, { signal: opts.signal, format });
  checkVideoInfo(info, lim);
  return info;
}

/** The rules that need only the probed metadata (duration, 106, 107), in validation order. */
export function checkVideoInfo(info: VideoInfo, limits: VideoLimits = DEFAULT_LIMITS): void {
  if (info.durationMs < limits.minDurationMs || info.durationMs > limits.maxDurationMs) {
    throw new KirinError(
      ErrorCode.DurationOutOfRange,
      `video duration ${fmtSec(info.durationMs)} s is outside ${fmtSec(limits.minDurationMs)}–${fmtSec(limits.maxDurationMs)} s`,
    );
  }

  const short = Math.min(info.width, info.height);
  if (!limits.allowedShortSides.includes(short)) {
    throw new KirinError(
      ErrorCode.ResolutionNotSupported,
      `resolution ${info.width}×${info.height}: the shorter display side is ${short} px, must be ${orList(limits.allowedShortSides)}`,
    );
  }

  for (const [name, v] of [['width', info.width], ['height', info.height]] as const) {
    if (v < limits.minSide || v > limits.maxSide) {
      throw new KirinError(
        ErrorCode.DimensionsOutOfRange,
        `display size ${info.width}×${info.height}: ${name} ${v} px is outside ${limits.minSide}–${limits.maxSide} px`,
      );
    }
  }
}

/** The first n bytes of a file (fewer if it is shorter). */
export async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Names what the first bytes look like, for the 014001104 message. */
export function describeBytes(head: Buffer): string {
  if (head.length === 0) return 'empty (0 bytes)';
  const hex = (n: number) => head.subarray(0, n).toString('hex');
  const ascii = (a: number, b: number) => head.toString('latin1', a, b);
  if (hex(4) === '1a45dfa3') return 'WebM/Matroska';
  if (ascii(0, 4) === 'RIFF') return ascii(8, 12) === 'AVI ' ? 'AVI' : `RIFF/${ascii(8, 12).trim()}`;
  if (ascii(0, 3) === 'FLV') return 'FLV';
  if (ascii(0, 3) === 'GIF') return 'a GIF image'; // before MPEG-TS: 'G' is its sync byte 0x47
  if (head[0] === 0x47) return 'MPEG-TS';
  if (hex(4) === '000001ba') return 'MPEG-PS';
  if (ascii(0, 4) === 'OggS') return 'Ogg';
  if (hex(4) === '30262675') return 'ASF/WMV';
  if (hex(4) === '89504e47') return 'a PNG image';
  if (hex(3) === 'ffd8ff') return 'a JPEG image';
  if (ascii(4, 8) === 'ftyp') return `ISO-BMFF with brand '${ascii(8, 12)}' (not a video container)`;
  if (/^[\t\n\r\x20-\x7e]+$/.test(head.toString('latin1'))) return 'text';
  return `unknown (first bytes ${hex(8).replace(/(..)/g, '$1 ').trim()})`;
}

function fmtMiB(bytes: number): string {
  return trimNum(bytes / MiB, 1);
}

function fmtSec(ms: number): string {
  return trimNum(ms / 1000, 3);
}

function trimNum(v: number, digits: number): string {
  return v.toFixed(digits).replace(/\.?0+$/, '');
}

function orList(xs: readonly number[]): string {
  return xs.length <= 1 ? String(xs[0] ?? 'none') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}

/** stat() with a missing, unreadable or non-regular file reported as the client's error (108). */
async function statReadable(path: string): Promise<{ size: number }> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    return st;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ENOTDIR') {
      const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'not a regular file';
      throw new KirinError(ErrorCode.Unreadable, `video is unreadable: ${why}`);
    }
    throw e;
  }
}
