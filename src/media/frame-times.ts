import { ErrorCode, KirinError } from '../errors.js';
import { ffprobePath } from './binaries.js';
import { UNTRUSTED_INPUT_OPTIONS, localInput, runTool, stderrTail, toolFault, toolLimits } from './run-tool.js';
import type { VideoInfo } from './types.js';

/**
 * The presentation time of every frame of the video stream, in ms from the first displayed frame,
 * in display order — without decoding: one ffprobe pass over the packets (each packet of a video
 * stream is one frame).
 *
 * The times are reckoned as decodeFrames reckons them (the stream's pts in its time base, the first
 * displayed frame at 0), so an analysed frame's timeMs is found among them. Packets an edit list
 * leaves out (ffprobe flags them 'D') are never displayed and are not counted; a variable frame
 * rate comes out as measured.
 */
export async function frameTimes(path: string, info: Pick<VideoInfo, 'streamIndex'>, opts: { signal?: AbortSignal } = {}): Promise<number[]> {
  const timeoutMs = toolLimits().probeTimeoutMs;
  const res = await runTool(
    ffprobePath(),
    [
      '-v', 'error',
      ...UNTRUSTED_INPUT_OPTIONS,
      '-select_streams', info.streamIndex !== undefined ? String(info.streamIndex) : 'v:0',
      '-show_entries', 'stream=time_base:packet=pts,dts,flags',
      '-of', 'compact',
      '-i', localInput(path),
    ],
    { timeoutMs, signal: opts.signal },
  );
  const fault = toolFault('ffprobe (frame times)', res, timeoutMs);
  if (fault) throw fault;
  if (res.exitCode !== 0) {
    throw new KirinError(ErrorCode.Unreadable, `video is unreadable: ffprobe failed listing its frames (${stderrTail(res.stderr, [path]) || `exit ${res.exitCode}`})`);
  }
  return frameTimesFromPackets(res.stdout.toString('utf8'));
}

/** Parses ffprobe's compact listing (`stream|time_base=…` and `packet|pts=…|dts=…|flags=…` lines); exported for unit tests. */
export function frameTimesFromPackets(listing: string): number[] {
  let timeBase: [number, number] | undefined;
  const pts: number[] = [];
  for (const line of listing.split('\n')) {
    const fields = new Map(line.trim().split('|').slice(1).map((kv) => kv.split('=', 2) as [string, string]));
    if (line.startsWith('stream|')) {
      const [num, den] = (fields.get('time_base') ?? '').split('/').map(Number);
      if (num > 0 && den > 0) timeBase = [num, den];
    } else if (line.startsWith('packet|')) {
      if (fields.get('flags')?.includes('D')) continue;
      // a packet without a pts (rare in MP4/MOV) is shown at its decoding time
      const t = Number(fields.get('pts') === 'N/A' ? fields.get('dts') : fields.get('pts'));
      if (Number.isFinite(t)) pts.push(t);
    }
  }
  if (!timeBase) throw new KirinError(ErrorCode.Unreadable, 'video is unreadable: its time base is unknown');
  if (!pts.length) throw new KirinError(ErrorCode.Unreadable, 'video is unreadable: its video stream has no frame');
  pts.sort((a, b) => a - b);
  // seconds first, then the difference: the same arithmetic as decodeFrames, so the same rounding
  const [num, den] = timeBase;
  const first = (pts[0] * num) / den;
  return pts.map((p) => Math.round(((p * num) / den - first) * 1000));
}
