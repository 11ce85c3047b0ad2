// Where a voice is heard, every face's lips are followed 15 times a second (follow-faces.ts). The
// decoder usually leaves out the frames no other frame refers to (about half of a typical file's
// decoding): at 30 frames a second the rest still come 15 a second, at 24 or 25 with B-frames only
// 12–12.5, and a variable frame rate can change that halfway. So the frames decoded are watched
// and, where they come too far apart for the lips, every frame is decoded from there on.
import type { TimeSpan } from '../analysis/types.js';
import type { DecodedFrame } from '../media/types.js';

/** Lips are followed this long before and after the voice too, so each mouth's rest is known. */
export const LIP_MARGIN_MS = 500;

/** Whether the lips are followed at `timeMs`: while a voice is heard, and LIP_MARGIN_MS around it. */
export function lipsFollowedAt(speech: readonly TimeSpan[], timeMs: number): boolean {
  return speech.some((s) => timeMs >= s.startMs - LIP_MARGIN_MS && timeMs < s.endMs + LIP_MARGIN_MS);
}

/**
 * Whether decoded frames at these times (ms, ascending: a few the decoder gave out in a row) come
 * too far apart to follow the lips every `everyMs`: their typical (median) distance is more than
 * `everyMs` and a quarter frame (timestamps are rounded).
 */
export function tooSparseForLips(timesMs: readonly number[], everyMs: number, frameMs: number): boolean {
  const gaps = timesMs.slice(1).map((t, i) => t - timesMs[i]).sort((a, b) => a - b);
  return gaps.length > 0 && gaps[Math.floor(gaps.length / 2)] > everyMs + frameMs / 4;
}

export interface LipRateOptions {
  /** When a voice is heard (ms). */
  speech: readonly TimeSpan[];
  /** How often the lips are followed (ms) and the nominal frame duration (ms). */
  everyMs: number;
  frameMs: number;
  /** How many frames in a row are judged (tooSparseForLips). */
  probeFrames: number;
  /** The same video decoded again from the start, every frame. */
  everyFrame(): AsyncGenerator<DecodedFrame>;
  /** Told before the first frame is given out whether only reference frames are given out, and told again (false) if every frame is from then on. */
  onDecoding(referenceOnly: boolean): void;
}

/**
 * The frames of `referenceFrames` (a decoder that leaves out the frames no other frame refers to),
 * as long as they come close enough together to follow the lips wherever a voice is heard:
 * - when the first `probeFrames` come too far apart, and a voice is heard anywhere, every frame
 *   is given out instead, from the start (nothing was given out yet);
 * - when later the last `probeFrames` come too far apart where the lips are followed (a variable
 *   frame rate that drops, B-frames that begin later), every frame is given out from there on:
 *   the video is decoded again from the start, the frames up to the last one given out are
 *   passed over, and the rest are numbered on from it.
 * Without a voice, the reference frames are given out as they come.
 */
export async function* keepLipRate(referenceFrames: AsyncGenerator<DecodedFrame>, opts: LipRateOptions): AsyncGenerator<DecodedFrame> {
  const tooSparse = (times: readonly number[]) => tooSparseForLips(times, opts.everyMs, opts.frameMs);
  const head: DecodedFrame[] = [];
  let last: DecodedFrame | undefined;
  let reopen = false;
  try {
    if (opts.speech.length) {
      for (let r; head.length < opts.probeFrames && !(r = await referenceFrames.next()).done; ) head.push(r.value);
      reopen = tooSparse(head.map((f) => f.timeMs));
    }
    if (!reopen) {
      opts.onDecoding(true);
      const times: number[] = [];
      for await (const f of prepend(head.splice(0), referenceFrames)) {
        times.push(f.timeMs);
        if (times.length > opts.probeFrames) times.shift();
        if (opts.speech.length && times.length === opts.probeFrames && lipsFollowedAt(opts.speech, f.timeMs) && tooSparse(times)) {
          f.release?.();
          reopen = true;
          break;
        }
        yield f;
        last = f;
      }
    }
  } finally {
    for (const f of head) f.release?.();
    await referenceFrames.return(undefined);
  }
  if (!reopen) return;
  opts.onDecoding(false);
  const after = last?.timeMs ?? -Infinity;
  let index = last?.index ?? -1;
  const all = opts.everyFrame();
  try {
    for await (const f of all) {
      if (f.timeMs <= after) {
        f.release?.();
        continue;
      }
      index++;
      yield index === f.index ? f : { ...f, index };
    }
  } finally {
    await all.return(undefined);
  }
}

async function* prepend<T>(first: readonly T[], rest: AsyncGenerator<T>): AsyncGenerator<T> {
  yield* first;
  yield* rest;
}
