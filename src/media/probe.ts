import { stat } from 'node:fs/promises';
import { ErrorCode, KirinError } from '../errors.ts';
import { ffprobePath } from './binaries.ts';
import { sniffContainer, type ContainerFormat } from './container.ts';
import { MAX_STREAMS, UNTRUSTED_INPUT_OPTIONS, localInput, runTool, stderrTail, toolFault, toolLimits } from './run-tool.ts';
import type { VideoInfo } from './types.ts';

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  codec_tag_string?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  start_time?: string;
  duration?: string;
  nb_frames?: string;
  tags?: Record<string, string>;
  disposition?: Record<string, number>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number }>;
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string };
}

/**
 * Reads a local video's metadata with ffprobe, in display orientation.
 * Throws KirinError 014001104 if the bytes are not MP4/MOV, 014001108 if ffprobe cannot read it,
 * it has no decodable video stream, more than MAX_STREAMS streams or needs more than the memory
 * limit, 014002095 if ffprobe hangs or crashes.
 */
export async function probeVideo(
  path: string,
  opts: { signal?: AbortSignal; timeoutMs?: number; /** The container, when the caller has judged the bytes already. */ format?: ContainerFormat } = {},
): Promise<VideoInfo> {
  const format = opts.format ?? (await sniffContainer(path));
  if (!format) {
    throw new KirinError(ErrorCode.NotMp4OrMov, 'container is not MP4 or MOV (no ISO-BMFF/QuickTime header in the first bytes)');
  }
  const { size } = await stat(path);
  const timeoutMs = opts.timeoutMs ?? toolLimits().probeTimeoutMs;
  const res = await runTool(
    ffprobePath(),
    ['-v', 'error', ...UNTRUSTED_INPUT_OPTIONS, '-print_format', 'json', '-show_format', '-show_streams', '-i', localInput(path)],
    { timeoutMs, signal: opts.signal },
  );
  if (res.exitCode !== 0 && /exceeds max_streams/.test(res.stderr)) {
    throw new KirinError(ErrorCode.Unreadable, `video is unreadable: it declares more than ${MAX_STREAMS} streams (the limit)`);
  }
  const fault = toolFault('ffprobe', res, timeoutMs);
  if (fault) throw fault;
  if (res.exitCode !== 0) {
    throw new KirinError(ErrorCode.Unreadable, `video is unreadable: ffprobe failed (${stderrTail(res.stderr, [path]) || `exit ${res.exitCode}`})`);
  }
  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(res.stdout.toString('utf8')) as FfprobeOutput;
  } catch {
    throw new KirinError(ErrorCode.Unreadable, 'video is unreadable: ffprobe output is not valid JSON');
  }
  return videoInfoFromProbe(parsed, format, size);
}

/** Builds VideoInfo from parsed ffprobe JSON; exported for unit tests. */
export function videoInfoFromProbe(parsed: FfprobeOutput, format: 'mp4' | 'mov', sizeBytes: number): VideoInfo {
  const formatName = parsed.format?.format_name ?? '';
  if (!/\b(mov|mp4)\b/.test(formatName)) {
    throw new KirinError(ErrorCode.NotMp4OrMov, `container is not MP4 or MOV (ffprobe reads it as '${formatName || 'unknown'}')`);
  }
  const streams = parsed.streams ?? [];
  // Cover art in an audio file shows up as a one-picture video stream; it is not video.
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) {
    const kinds = streams.map((s) => s.codec_type ?? 'unknown').join(', ') || 'none';
    throw new KirinError(ErrorCode.Unreadable, `video is unreadable: no video stream (streams found: ${kinds})`);
  }
  if (!video.codec_name || video.codec_name === 'none') {
    throw new KirinError(ErrorCode.Unreadable, `video is unreadable: codec '${video.codec_tag_string ?? 'unknown'}' cannot be decoded`);
  }
  const codedW = video.width ?? 0;
  const codedH = video.height ?? 0;
  if (codedW <= 0 || codedH <= 0) {
    throw new KirinError(ErrorCode.Unreadable, `video is unreadable: frame size ${codedW}×${codedH} is unknown`);
  }

  const rotation = rotationOf(video);
  const swap = rotation === 90 || rotation === 270;

  const fps = parseRate(video.avg_frame_rate) || parseRate(video.r_frame_rate);
  const streamDur = parseSeconds(video.duration);
  const formatDur = parseSeconds(parsed.format?.duration);
  const durationSec = streamDur ?? formatDur;
  if (durationSec === undefined || !(durationSec > 0)) {
    throw new KirinError(ErrorCode.Unreadable, 'video is unreadable: its duration is unknown');
  }
  const declaredFrames = Number.parseInt(video.nb_frames ?? '', 10);
  const frameCount = declaredFrames > 0 ? declaredFrames : Math.max(1, Math.round(durationSec * fps));

  const videoStart = parseSeconds(video.start_time) ?? 0;
  const formatStart = parseSeconds(parsed.format?.start_time) ?? videoStart;
  const audio = streams.find((s) => s.codec_type === 'audio' && s.codec_name && s.codec_name !== 'none');

  return {
    format,
    sizeBytes,
    durationMs: Math.round(durationSec * 1000),
    width: swap ? codedH : codedW,
    height: swap ? codedW : codedH,
    rotation,
    fps,
    codec: video.codec_name,
    frameCount,
    streamIndex: video.index,
    codedWidth: codedW,
    codedHeight: codedH,
    startOffsetMs: Math.max(0, Math.round((videoStart - formatStart) * 1e6) / 1000),
    ...(audio ? { audio: { streamIndex: audio.index, startMs: Math.round(((parseSeconds(audio.start_time) ?? videoStart) - videoStart) * 1e6) / 1000 } } : {}),
  };
}

/**
 * Rotation in degrees (0/90/180/270) as ffmpeg's display matrix states it (counter-clockwise).
 * Old ffprobe builds only give the `rotate` tag, which is clockwise.
 */
function rotationOf(s: FfprobeStream): number {
  const sd = s.side_data_list?.find((d) => d.side_data_type === 'Display Matrix' && typeof d.rotation === 'number');
  let deg: number | undefined = sd?.rotation;
  if (deg === undefined && s.tags?.['rotate'] !== undefined) {
    const tag = Number(s.tags['rotate']);
    if (Number.isFinite(tag)) deg = -tag;
  }
  if (deg === undefined || !Number.isFinite(deg)) return 0;
  return (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
}

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [n, d] = rate.split('/').map(Number);
  const v = d === undefined ? n : d ? n / d : 0;
  return Number.isFinite(v) && v > 0 ? v : 0;
}

function parseSeconds(s: string | undefined): number | undefined {
  if (s === undefined || s === 'N/A') return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}
