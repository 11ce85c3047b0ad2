import { ErrorCode, KirinError } from '../errors.ts';
import { ffmpegPath } from './binaries.ts';
import { UNTRUSTED_INPUT_OPTIONS, localInput, runTool, stderrTail, toolFault, toolLimits } from './run-tool.ts';
import type { VideoInfo } from './types.ts';

/** The soundtrack as its own timestamped stream: mono PCM samples in -1..1. */
export interface AudioTrack {
  sampleRate: number;
  /** Time of the first sample in ms from the first displayed video frame (negative when the sound starts first). */
  startMs: number;
  samples: Float32Array;
}

/** What speech models expect (Silero VAD among them). */
export const AUDIO_SAMPLE_RATE = 16_000;

/**
 * Decodes the first audio stream to 16 kHz mono float PCM. Resolves to null when the file has no
 * audio stream. A stream that fails to decode fails like a broken video (014001108): the file is
 * damaged, and a silent answer would be a wrong one.
 */
export async function decodeAudio(path: string, info: VideoInfo, opts: { signal?: AbortSignal } = {}): Promise<AudioTrack | null> {
  if (!info.audio) return null;
  const timeoutMs = toolLimits().decodeTimeoutMs;
  const res = await runTool(
    ffmpegPath(),
    [
      '-nostdin', '-hide_banner', '-nostats', '-v', 'error',
      ...UNTRUSTED_INPUT_OPTIONS,
      '-i', localInput(path),
      '-map', `0:${info.audio.streamIndex}`,
      '-vn', '-sn', '-dn',
      '-ac', '1', '-ar', String(AUDIO_SAMPLE_RATE),
      '-f', 'f32le', 'pipe:1',
    ],
    // 16 kHz float for the longest accepted video (60 s) is under 4 MB; 8 MB leaves room for a longer soundtrack
    { timeoutMs, signal: opts.signal, maxStdoutBytes: 8 << 20 },
  );
  const fault = toolFault('ffmpeg (audio)', res, timeoutMs);
  if (fault) throw fault;
  if (res.exitCode !== 0) {
    throw new KirinError(ErrorCode.Unreadable, `video is unreadable: its audio cannot be decoded (${stderrTail(res.stderr, [path]) || `exit ${res.exitCode}`})`);
  }
  const bytes = res.stdout;
  const samples = new Float32Array(bytes.length >> 2);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readFloatLE(i * 4);
  return { sampleRate: AUDIO_SAMPLE_RATE, startMs: info.audio.startMs, samples };
}
