import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, KirinError, isKirinError } from '../errors.ts';
import { newId } from '../storage/ids.ts';
import { checkUrlAllowedStatic, parseOutboundUrl, type AddressRules, type HostLookup } from '../net/url-guard.ts';
import { ffprobePath } from './binaries.ts';
import { sniffContainerBytes } from './container.ts';
import { downloadDefaults, downloadVideo } from './download.ts';
import { MAX_STREAMS, localInput, runTool, stderrTail, toolFault, toolLimits } from './run-tool.ts';
import { describeBytes, readHead } from './validate.ts';

/**
 * The audio a lip-sync plan crops from (`sound_file`): fetched under the same URL rules as
 * `video_url` (net/url-guard.ts: scheme, credentials, ports, non-public addresses after every
 * redirect, the connection pinned to the checked address), at most 5 MB, and MP3, WAV or M4A
 * judged from the bytes, then probed with ffprobe for its length.
 */

export type SoundFormat = 'mp3' | 'wav' | 'm4a';

const MiB = 1024 * 1024;
/** "5 MB" read as 5 MiB, as the video's "100 MB" is read as 100 MiB: no file a client measures as ≤ 5 MB is refused. */
export const SOUND_FILE_MAX_BYTES = 5 * MiB;

export interface SoundFileInfo {
  format: SoundFormat;
  /** ffprobe's name of the audio codec, e.g. 'pcm_s16le', 'mp3', 'aac'. */
  codec: string;
  durationMs: number;
  sizeBytes: number;
}

/** The demuxer each format is read with: ffprobe never guesses another format from the bytes. */
const DEMUXER: Record<SoundFormat, string> = { mp3: 'mp3', wav: 'wav', m4a: 'mov' };

/** MP3 (an ID3v2 tag or an MPEG layer III frame header), WAV (RIFF/WAVE) or M4A (ISO-BMFF boxes) from the first bytes; else null. */
export function sniffSoundBytes(head: Uint8Array): SoundFormat | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WAVE') return 'wav';
  if (b.length >= 3 && b.toString('latin1', 0, 3) === 'ID3') return 'mp3';
  if (b.length >= 4 && isMp3FrameHeader(b)) return 'mp3';
  if (b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp' && sniffContainerBytes(b)) return 'm4a';
  return null;
}

function isMp3FrameHeader(b: Buffer): boolean {
  const [b0, b1, b2] = [b[0]!, b[1]!, b[2]!];
  const syncOk = b0 === 0xff && (b1 & 0xe0) === 0xe0;
  const version = (b1 >> 3) & 3; // 1 is reserved
  const layer = (b1 >> 1) & 3; // 1 = layer III (0 is reserved; ADTS AAC writes 0 here)
  const bitrate = b2 >> 4; // 15 is invalid
  const rate = (b2 >> 2) & 3; // 3 is reserved
  return syncOk && version !== 1 && layer === 1 && bitrate !== 15 && rate !== 3;
}

interface ProbeJson {
  streams?: Array<{ index: number; codec_type?: string; codec_name?: string; duration?: string; disposition?: Record<string, number> }>;
  format?: { duration?: string };
}

/**
 * Reads a local sound file: its format from the bytes, its audio codec and length from ffprobe.
 * Throws 014001109 when it is not MP3, WAV or M4A, 014001110 when ffprobe cannot read it, it has
 * no audio stream or its length is unknown, 014002095 when ffprobe hangs or crashes.
 */
export async function probeSoundFile(path: string, opts: { signal?: AbortSignal } = {}): Promise<SoundFileInfo> {
  const { size } = await stat(path);
  const head = await readHead(path, 16);
  const format = sniffSoundBytes(head);
  if (!format) {
    throw new KirinError(ErrorCode.SoundFileFormat, `sound_file is ${describeBytes(head)}, must be MP3, WAV or M4A`);
  }
  const input = ['-protocol_whitelist', 'file', '-f', DEMUXER[format], '-max_streams', String(MAX_STREAMS), '-i', localInput(path)];
  const timeoutMs = toolLimits().probeTimeoutMs;
  const res = await runTool(ffprobePath(), ['-v', 'warning', '-print_format', 'json', '-show_format', '-show_streams', ...input], { timeoutMs, signal: opts.signal });
  const fault = toolFault('ffprobe', res, timeoutMs);
  if (fault) throw fault;
  if (res.exitCode !== 0) throw unreadable(`ffprobe failed (${stderrTail(res.stderr, [path]) || `exit ${res.exitCode}`})`);
  let parsed: ProbeJson;
  try {
    parsed = JSON.parse(res.stdout.toString('utf8')) as ProbeJson;
  } catch {
    throw unreadable('ffprobe output is not valid JSON');
  }
  const streams = parsed.streams ?? [];
  // cover art in an audio file is a one-picture video stream; any other picture makes it a video
  if (format === 'm4a' && streams.some((s) => s.codec_type === 'video' && !s.disposition?.attached_pic)) {
    throw new KirinError(ErrorCode.SoundFileFormat, 'sound_file is an MP4 with a video stream (a video), must be MP3, WAV or M4A audio');
  }
  const audio = streams.find((s) => s.codec_type === 'audio' && s.codec_name && s.codec_name !== 'none');
  if (!audio) throw unreadable(`no audio stream (streams found: ${streams.map((s) => s.codec_type ?? 'unknown').join(', ') || 'none'})`);
  if (format === 'mp3' && audio.codec_name !== 'mp3') throw unreadable(`an MP3 file whose audio is '${audio.codec_name}'`);

  let seconds = positive(audio.duration) ?? positive(parsed.format?.duration);
  // ffprobe guesses an MP3's length from its first frame's bit rate when no header states it
  // (a VBR file without a Xing/Info frame): count its packets instead
  if (format === 'mp3' && /Estimating duration from bitrate/i.test(res.stderr)) seconds = (await mp3PacketSpan(input, audio.index, opts.signal)) ?? seconds;
  if (seconds === undefined) throw unreadable('its duration is unknown');
  return { format, codec: audio.codec_name!, durationMs: Math.round(seconds * 1000), sizeBytes: size };
}

/** First packet's start to last packet's end of stream `index`, in seconds. */
async function mp3PacketSpan(input: string[], index: number, signal?: AbortSignal): Promise<number | undefined> {
  const timeoutMs = toolLimits().probeTimeoutMs;
  const res = await runTool(ffprobePath(), ['-v', 'error', '-select_streams', String(index), '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', ...input], { timeoutMs, signal });
  const fault = toolFault('ffprobe', res, timeoutMs);
  if (fault) throw fault;
  if (res.exitCode !== 0) return undefined;
  let first = Infinity;
  let last = -Infinity;
  for (const line of res.stdout.toString('utf8').split('\n')) {
    const [pts, dur] = line.split(',').map(Number);
    if (!Number.isFinite(pts) || !Number.isFinite(dur)) continue;
    first = Math.min(first, pts!);
    last = Math.max(last, pts! + dur!);
  }
  return last > first ? last - first : undefined;
}

export interface FetchSoundOptions extends Pick<AddressRules, 'allowPrivate' | 'allowedPorts' | 'allowAddress'> {
  /** Scratch folder for the download; the file is removed before this resolves. */
  scratchDir: string;
  /** The whole download, every redirect included (default: the download default, at most 20 s). */
  totalTimeoutMs?: number;
  signal?: AbortSignal;
  lookup?: HostLookup;
}

/** The longest a plan check waits for one sound file, inside the API's answer deadline. */
const SOUND_FETCH_TIMEOUT_MS = 20_000;

/**
 * Fetches `rawUrl` (`sound_file`) under video_url's rules with a 5 MB limit and probes it.
 * Throws 014001001 (malformed URL), 014001101 (download failed), 014001102 (URL not allowed),
 * 014001103 (over 5 MB), 014001109, 014001110; every message starts with "sound_file".
 */
export async function fetchSoundFile(rawUrl: unknown, opts: FetchSoundOptions): Promise<SoundFileInfo> {
  const file = join(opts.scratchDir, `${newId('sound')}.audio`);
  try {
    const url = parseOutboundUrl(rawUrl, 'sound_file');
    checkUrlAllowedStatic(url, opts);
    await mkdir(opts.scratchDir, { recursive: true });
    await downloadVideo(url, file, {
      allowPrivate: opts.allowPrivate,
      allowedPorts: opts.allowedPorts,
      allowAddress: opts.allowAddress,
      lookup: opts.lookup,
      signal: opts.signal,
      maxBytes: SOUND_FILE_MAX_BYTES,
      totalTimeoutMs: opts.totalTimeoutMs ?? Math.min(downloadDefaults().totalTimeoutMs, SOUND_FETCH_TIMEOUT_MS),
    });
    return await probeSoundFile(file, { signal: opts.signal });
  } catch (e) {
    if (isKirinError(e) && !e.message.startsWith('sound_file')) throw new KirinError(e.code, `sound_file: ${e.message}`);
    throw e;
  } finally {
    await rm(file, { force: true });
  }
}

function positive(s: string | undefined): number | undefined {
  const v = s === undefined || s === 'N/A' ? NaN : Number(s);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

function unreadable(why: string): KirinError {
  return new KirinError(ErrorCode.SoundFileUnreadable, `sound_file is unreadable: ${why}`);
}
