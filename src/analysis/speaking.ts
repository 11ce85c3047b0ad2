// Who is speaking: audio-visual synchrony between the voice and each visible mouth.
//
// Every face's mouth opening (inner lip gap over the eye distance) is resampled on the voice
// model's hop grid; its movement (how fast the opening changes) is compared with the loudness of
// the soundtrack over a sliding window, by correlation at the best of a few small lags (the
// mouth moves slightly before the sound it makes). While a voice is heard, each hop goes to the
// face whose mouth follows the sound best, if that correlation is clear enough; no face gets it
// when none does (an off-screen narrator, a listener, a muted talker). A mouth that hardly moves
// (a still photo, a closed mouth) never speaks.
import type { FaceSample, Point2, TimeSpan, VoiceActivity } from './types.js';

export interface SpeakingFace {
  startMs: number;
  endMs: number;
  samples: readonly FaceSample[];
}

export const SPEAKING_RULES = {
  /** Mouth samples farther apart than this leave the hops between them unknown (too sparse to follow speech). */
  maxSampleGapMs: 200,
  /** Length of the window the synchrony is measured over, centred on each hop. */
  windowMs: 2000,
  /** Share of the window's hops where the mouth must be known. */
  minCoverage: 0.5,
  /** Lags searched, ms the mouth may move before (positive) or after the sound. */
  minLagMs: -100,
  maxLagMs: 200,
  /** Both signals are smoothed over this many hops on each side (syllables last ~150–250 ms). */
  smoothHops: 1,
  /** Correlation a mouth needs to be the voice's (chance correlations of unrelated signals stay below it mostly). */
  minSync: 0.35,
  /** A mouth whose opening varies less than this (standard deviation over the window, in eye distances) is still. */
  minMouthMotion: 0.02,
  /** Loudness below this (natural log of mean square) counts as silence: room noise does not steer the correlation. */
  silenceLogPower: Math.log(1e-5),
  /** Speaking stretches are joined over gaps shorter than this. */
  minGapMs: 250,
  /** Shorter stretches are dropped: mesh jitter on a still mouth can match the voice for a moment, not for half a second. */
  minSpeakingMs: 500,
};

/** For each face, when its own voice is heard (ms, inside both the face's presence and the voice's speech). */
export function attributeSpeech(faces: readonly SpeakingFace[], voice: VoiceActivity, rules = SPEAKING_RULES): TimeSpan[][] {
  const n = voice.probability.length;
  if (n === 0 || voice.speech.length === 0 || faces.length === 0) return faces.map(() => []);
  const hopTime = (i: number) => voice.startMs + (i + 0.5) * voice.hopMs;
  const inSpeech = speechMask(voice, n);
  const loudness = smooth(Float64Array.from(voice.energy, (e) => Math.max(e, rules.silenceLogPower)), rules.smoothHops);
  const openings = faces.map((f) => mouthOpening(f.samples, n, hopTime, rules.maxSampleGapMs));
  const movements = openings.map((o) => smooth(movement(o), rules.smoothHops));
  const half = Math.round(rules.windowMs / voice.hopMs / 2);
  const lags = { from: Math.round(rules.minLagMs / voice.hopMs), to: Math.round(rules.maxLagMs / voice.hopMs) };

  const owner = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (!inSpeech[i]) continue;
    let best = -1, bestSync = rules.minSync;
    faces.forEach((f, k) => {
      const t = hopTime(i);
      if (t < f.startMs || t >= f.endMs || Number.isNaN(openings[k][i])) return;
      const a = Math.max(0, i - half), b = Math.min(n, i + half + 1);
      if (spread(openings[k], a, b, rules.minCoverage) < rules.minMouthMotion) return;
      const sync = bestLagCorrelation(movements[k], loudness, a, b, lags, rules.minCoverage);
      if (sync >= bestSync) {
        best = k;
        bestSync = sync;
      }
    });
    owner[i] = best;
  }
  return faces.map((f, k) => {
    const spans: TimeSpan[] = [];
    for (let i = 0; i < n; i++) {
      if (owner[i] !== k) continue;
      const s = Math.max(f.startMs, voice.startMs + i * voice.hopMs), e = Math.min(f.endMs, voice.startMs + (i + 1) * voice.hopMs);
      if (e <= s) continue;
      const last = spans[spans.length - 1];
      if (last && s - last.endMs < rules.minGapMs && !speechBreakBetween(voice.speech, last.endMs, s)) last.endMs = e;
      else spans.push({ startMs: s, endMs: e });
    }
    return spans.filter((s) => s.endMs - s.startMs >= rules.minSpeakingMs).map((s) => ({ startMs: Math.round(s.startMs), endMs: Math.round(s.endMs) }));
  });
}

function speechMask(voice: VoiceActivity, n: number): Uint8Array {
  const m = new Uint8Array(n);
  for (const s of voice.speech) {
    const a = Math.max(0, Math.floor((s.startMs - voice.startMs) / voice.hopMs)), b = Math.min(n, Math.ceil((s.endMs - voice.startMs) / voice.hopMs));
    for (let i = a; i < b; i++) m[i] = 1;
  }
  return m;
}

/** A gap between two stretches that the voice model heard as a pause is kept. */
function speechBreakBetween(speech: readonly TimeSpan[], fromMs: number, toMs: number): boolean {
  return !speech.some((s) => s.startMs <= fromMs && s.endMs >= toMs);
}

const distance = (p: Point2, q: Point2) => Math.hypot(p[0] - q[0], p[1] - q[1]);

/** Inner lip gap (mid upper to mid lower lip) over the eye distance; NaN without lips. */
export function openingOf(s: FaceSample): number {
  const eyes = distance(s.keypoints[0], s.keypoints[1]);
  if (s.lips.length < 40 || !(eyes > 0)) return NaN;
  return distance(s.lips[25], s.lips[35]) / eyes;
}

/** The opening at every hop's centre, linearly interpolated between samples close enough together; NaN elsewhere. */
function mouthOpening(samples: readonly FaceSample[], n: number, hopTime: (i: number) => number, maxGapMs: number): Float64Array {
  const out = new Float64Array(n).fill(NaN);
  const values = samples.map(openingOf);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const t = hopTime(i);
    while (j + 1 < samples.length && samples[j + 1].timeMs <= t) j++;
    const a = samples[j], b = samples[j + 1];
    if (!a || !b || a.timeMs > t || b.timeMs - a.timeMs > maxGapMs) continue;
    const w = (t - a.timeMs) / (b.timeMs - a.timeMs);
    out[i] = values[j] * (1 - w) + values[j + 1] * w;
  }
  return out;
}

/** How fast the opening changes at each hop (central difference; NaN where unknown). */
function movement(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  for (let i = 1; i + 1 < x.length; i++) out[i] = Math.abs(x[i + 1] - x[i - 1]);
  return out;
}

/** Moving average over ±r hops of the known values (NaN stays NaN). */
function smooth(x: Float64Array, r: number): Float64Array {
  const out = new Float64Array(x.length).fill(NaN);
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i])) continue;
    let s = 0, k = 0;
    for (let j = Math.max(0, i - r); j <= Math.min(x.length - 1, i + r); j++) {
      if (!Number.isNaN(x[j])) {
        s += x[j];
        k++;
      }
    }
    out[i] = s / k;
  }
  return out;
}

/** Standard deviation of the known values in [a, b); 0 when too few are known. */
function spread(x: Float64Array, a: number, b: number, minCoverage: number): number {
  let s = 0, ss = 0, k = 0;
  for (let i = a; i < b; i++) {
    if (Number.isNaN(x[i])) continue;
    s += x[i];
    ss += x[i] * x[i];
    k++;
  }
  if (k < minCoverage * (b - a) || k < 2) return 0;
  return Math.sqrt(Math.max(0, ss / k - (s / k) ** 2));
}

/** Pearson correlation of mouth[i - lag] with sound[i] over [a, b), the best over the lags; -1 when unknown. */
function bestLagCorrelation(mouth: Float64Array, sound: Float64Array, a: number, b: number, lags: { from: number; to: number }, minCoverage: number): number {
  let best = -1;
  for (let lag = lags.from; lag <= lags.to; lag++) {
    let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, k = 0;
    for (let i = a; i < b; i++) {
      const x = mouth[i - lag], y = sound[i];
      if (x === undefined || Number.isNaN(x) || Number.isNaN(y)) continue;
      sx += x;
      sy += y;
      sxx += x * x;
      syy += y * y;
      sxy += x * y;
      k++;
    }
    if (k < minCoverage * (b - a) || k < 4) continue;
    const vx = sxx / k - (sx / k) ** 2, vy = syy / k - (sy / k) ** 2;
    if (vx <= 0 || vy <= 0) continue;
    best = Math.max(best, (sxy / k - (sx / k) * (sy / k)) / Math.sqrt(vx * vy));
  }
  return best;
}
