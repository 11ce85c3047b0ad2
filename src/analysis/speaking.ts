// Who is speaking: audio-visual synchrony between the voice and each visible mouth.
//
// The visual side is each face's mouth movement read from the pixels (vision/mouth-motion.ts:
// how much the mouth region changed between consecutive decoded frames, 0 on a still picture).
// The sound side is two signals of the voice's loudness: the loudness itself (a mouth moves while
// it makes sound and rests in pauses) and how much it changes from one voice-model hop to the
// next (a mouth moves as syllables start and stop). Each follows a talking mouth, with errors of
// its own, so the synchrony is the mean of the two correlations. Both follow the talking and its
// pauses more than the syllables (nasals and voiced consonants are loud with the lips shut), so a
// third, finer signal is added: how open the voice sounds (sound-opening.ts) against how open the
// mouth is (the mesh's inner lip gap over the mouth's width), which follows the syllables where
// the loudness does not.
//
// The voice is given out piece by piece: each stretch of speech the voice model heard, cut where
// a face comes or goes and into parts of about 4 s (a voice can pass from one face to another
// without a pause). For each part, every face present is judged over the part and a little
// around it (at least 4 s, inside its presence): its synchrony with each sound signal is the
// correlation of its mouth movement with that signal, averaged over lags from 0 to 224 ms (the
// mouth moves before the sound it makes: it opens before a vowel is heard). The average, not the
// best of those lags: a mouth moving at a syllable-like rhythm of its own lines up with any speech
// at some lag for a few seconds, but not at all of them.
// The mouth movement is correlated on a log scale: it is heavy-tailed (a head turning, or a jump in
// the picture, moves the mouth region by 0.7 where talking moves it by 0.2–0.4), and on a log scale
// one such moment does not decide a part, while the talking it interrupts still counts.
// The evidence is the synchrony plus half the opening's correlation (averaged over the same lags).
// The part goes to the face with the strongest evidence times the spread of its movement (how
// much of the face's movement goes with the sound: a mouth that barely moves cannot be the one
// whose every syllable is heard), if that face's evidence is clear enough and its mouth moves;
// to no face otherwise (a narrator, a muted face, a listener).
import type { FaceSample, Point2, TimeSpan, VoiceActivity } from './types.js';

export interface SpeakingFace {
  startMs: number;
  endMs: number;
  /** What is read of each sample: when it was, how the mouth moved and where the lips were. */
  samples: readonly Pick<FaceSample, 'timeMs' | 'mouthMotion' | 'lips'>[];
}

export const SPEAKING_RULES = {
  /** The mouth movement is correlated as log(movement + this): below any talking mouth's movement (0.1 and more), above a still picture's 0. */
  movementFloor: 0.02,
  /** Mouth measures farther apart than this leave the hops between them unknown (too sparse to follow speech). */
  maxSampleGapMs: 200,
  /** Both signals are smoothed over this many hops on each side. */
  smoothHops: 1,
  /** Lags averaged over: how long the mouth may move before the sound. */
  minLagMs: 0,
  maxLagMs: 224,
  /** A part of the speech is judged over itself and this much on each side… */
  marginMs: 500,
  /** …and over at least this long (moved inside the face's presence near its start or end). */
  windowMs: 4000,
  /** Stretches of speech longer than this are judged in parts of about this length. */
  partMs: 4000,
  /** Shorter parts are not given to anyone. */
  minPartMs: 200,
  /** Share of the window's hops where the mouth must be known. */
  minCoverage: 0.5,
  /** Weight of the opening's correlation (the mouth's opening against the voice's, a mean over the lags) in the evidence. */
  openingWeight: 0.5,
  /** Evidence a mouth needs to be the voice's: its synchrony (its correlations with the loudness and with the loudness change, each a mean over the lags, averaged) plus openingWeight × the opening's correlation. */
  minEvidence: 0.16,
  /** A mouth that moves less than this (mean mouth movement while the part is heard) is still: it never speaks. */
  minMotion: 0.05,
  /** Loudness below this (natural log of mean square) counts as silence: room noise does not steer the sound change. */
  silenceLogPower: Math.log(1e-5),
};

export type SpeakingRules = typeof SPEAKING_RULES;

/** One face's mouth on the voice's hops (NaN where unknown). */
export interface MouthSignal {
  /** The mouth movement, smoothed. */
  movement: Float64Array;
  /** log(movement + movementFloor), smoothed: what is correlated with the sound. */
  logMovement: Float64Array;
  /** How open the mouth is (lipGap): what is correlated with the voice's opening. */
  opening: Float64Array;
}

/** What one face's mouth did over one part of the speech. */
export interface PartJudgement {
  /** Correlation of the mouth movement with the sound signals, averaged over the lags searched and over the signals. */
  sync: number;
  /** Correlation of the mouth's opening with the voice's, averaged over the lags searched (0 where it cannot be told). */
  opening: number;
  /** Mean mouth movement while the part is heard. */
  motion: number;
  /** Standard deviation of the mouth movement over the window. */
  spread: number;
}

/** One part of the speech and how each face present through all of it was judged over it. */
export interface JudgedPart {
  part: TimeSpan;
  /** Faces (indexes into the faces judged) whose mouth is known over enough of the window. */
  judged: { face: number; judgement: PartJudgement }[];
}

/** For each face, when its own voice is heard (ms, inside both the face's presence and the voice's speech). */
export function attributeSpeech(faces: readonly SpeakingFace[], voice: VoiceActivity, rules: SpeakingRules = SPEAKING_RULES): TimeSpan[][] {
  return decideSpeakers(faces, judgeParts(faces, voice, rules), rules);
}

/** What the decision weighs of a face over a part: the synchrony plus openingWeight × the opening's correlation. */
export function evidence(j: PartJudgement, rules: Pick<SpeakingRules, 'openingWeight'>): number {
  return j.sync + rules.openingWeight * j.opening;
}

/**
 * The decision over judged parts (judgeParts): each part goes to the face with the strongest
 * evidence × spread whose evidence is clear enough and whose mouth moves, or to nobody.
 */
export function decideSpeakers(faces: readonly SpeakingFace[], parts: readonly JudgedPart[], rules: SpeakingRules = SPEAKING_RULES): TimeSpan[][] {
  const spans: TimeSpan[][] = faces.map(() => []);
  for (const { part, judged } of parts) {
    let best = -1, bestScore = -Infinity;
    for (const { face, judgement: j } of judged) {
      const e = evidence(j, rules);
      if (j.motion < rules.minMotion || e < rules.minEvidence) continue;
      const score = e * j.spread;
      if (score > bestScore) {
        best = face;
        bestScore = score;
      }
    }
    if (best < 0) continue;
    const f = faces[best];
    const s = { startMs: Math.max(part.startMs, f.startMs), endMs: Math.min(part.endMs, f.endMs) };
    const last = spans[best][spans[best].length - 1];
    if (last && s.startMs - last.endMs < 1) last.endMs = s.endMs;
    else spans[best].push(s);
  }
  return spans.map((list) => list.map((s) => ({ startMs: Math.round(s.startMs), endMs: Math.round(s.endMs) })).filter((s) => s.endMs > s.startMs));
}

/**
 * The evidence the decision weighs: every part of the speech (speechParts) and, for each face
 * present through all of it, its mouth over the part (judgePart), over its judgedWindow.
 */
export function judgeParts(faces: readonly SpeakingFace[], voice: VoiceActivity, rules: SpeakingRules = SPEAKING_RULES): JudgedPart[] {
  const n = voice.probability.length;
  if (n === 0 || voice.speech.length === 0 || faces.length === 0) return [];
  // hops whose middle lies in [fromMs, toMs)
  const hops = (fromMs: number, toMs: number) => ({
    from: Math.max(0, Math.ceil((fromMs - voice.startMs) / voice.hopMs - 0.5)),
    to: Math.min(n, Math.ceil((toMs - voice.startMs) / voice.hopMs - 0.5)),
  });
  const level = loudness(voice.energy, rules.silenceLogPower);
  const sounds = [level, soundChange(level)].map((x) => smooth(x, rules.smoothHops));
  const opening = Float64Array.from(voice.opening);
  const mouths = faces.map((f) => mouthSignal(mouthMovement(f.samples, voice, rules.maxSampleGapMs), mouthOpening(f.samples, voice, rules.maxSampleGapMs), rules));
  const lags = { from: Math.round(rules.minLagMs / voice.hopMs), to: Math.round(rules.maxLagMs / voice.hopMs) };

  return speechParts(voice.speech, faces, rules).map((part) => {
    const judged: JudgedPart['judged'] = [];
    const heard = hops(part.startMs, part.endMs);
    faces.forEach((f, k) => {
      if (f.startMs > part.startMs || f.endMs < part.endMs) return;
      const w = judgedWindow(part, f, rules);
      const window = hops(w.startMs, w.endMs);
      const judgement = judgePart(mouths[k], sounds, opening, window, heard, lags, rules.minCoverage);
      if (judgement) judged.push({ face: k, judgement });
    });
    return { part, judged };
  });
}

/**
 * The time a face is judged over for one part: the part and `marginMs` on each side, at least
 * `windowMs` long, moved (not cut) to stay inside the face's presence, so that a part near the
 * start or end of a face is judged over as long a window as any other (a shorter window lines
 * a mouth up with the voice by chance more often). Shorter only when the presence is.
 */
export function judgedWindow(part: TimeSpan, face: { startMs: number; endMs: number }, rules: Pick<SpeakingRules, 'marginMs' | 'windowMs'>): TimeSpan {
  const length = Math.max(part.endMs - part.startMs + 2 * rules.marginMs, rules.windowMs);
  const startMs = Math.max(face.startMs, Math.min((part.startMs + part.endMs - length) / 2, face.endMs - length));
  return { startMs, endMs: Math.min(face.endMs, startMs + length) };
}

/** The stretches of speech, cut where a face's presence starts or ends, long pieces cut into parts of about partMs. */
export function speechParts(speech: readonly TimeSpan[], faces: readonly { startMs: number; endMs: number }[], rules: Pick<SpeakingRules, 'partMs' | 'minPartMs'>): TimeSpan[] {
  const parts: TimeSpan[] = [];
  for (const s of speech) {
    const cuts = [...new Set([s.startMs, s.endMs, ...faces.flatMap((f) => [f.startMs, f.endMs]).filter((t) => t > s.startMs && t < s.endMs)])].sort((a, b) => a - b);
    for (let c = 0; c + 1 < cuts.length; c++) {
      const a = cuts[c], b = cuts[c + 1];
      const k = Math.max(1, Math.round((b - a) / rules.partMs));
      for (let j = 0; j < k; j++) {
        const part = { startMs: a + ((b - a) * j) / k, endMs: a + ((b - a) * (j + 1)) / k };
        if (part.endMs - part.startMs >= rules.minPartMs) parts.push(part);
      }
    }
  }
  return parts;
}

/** A face's mouth on the voice's hops as it is judged: its movement smoothed, and on a log scale for the correlations; its opening as measured. */
export function mouthSignal(movement: Float64Array, opening: Float64Array, rules: Pick<SpeakingRules, 'movementFloor' | 'smoothHops'>): MouthSignal {
  return {
    movement: smooth(movement, rules.smoothHops),
    logMovement: smooth(movement.map((v) => Math.log(v + rules.movementFloor)), rules.smoothHops),
    opening,
  };
}

/**
 * One face over one part: the correlation of its mouth movement (on the log scale) with each
 * sound signal over the window's hops (mouth[i - lag] against sound[i], averaged over the lags,
 * then over the signals), that of its opening with the voice's (averaged over the same lags),
 * its mean movement over the hops where the part is heard and its movement's spread over the
 * window. Undefined when the mouth is known on too few of the window's hops.
 */
export function judgePart(
  mouth: MouthSignal,
  sounds: readonly Float64Array[],
  opening: Float64Array,
  window: { from: number; to: number },
  heard: { from: number; to: number },
  lags: { from: number; to: number },
  minCoverage: number,
): PartJudgement | undefined {
  const known = count(mouth.logMovement, window.from, window.to);
  if (known < Math.max(8, minCoverage * (window.to - window.from))) return undefined;
  let sync = 0;
  for (const sound of sounds) {
    const c = meanOverLags(mouth.logMovement, sound, window, lags);
    if (Number.isNaN(c)) return undefined;
    sync += c / sounds.length;
  }
  const open = meanOverLags(mouth.opening, opening, window, lags);
  return {
    sync,
    opening: Number.isNaN(open) ? 0 : open,
    motion: mean(mouth.movement, heard.from, heard.to),
    spread: Math.sqrt(variance(mouth.movement, window.from, window.to)),
  };
}

/** The correlation of mouth[i - lag] with sound[i] over the window, averaged over the lags where it can be told; NaN where it cannot at any. */
function meanOverLags(mouth: Float64Array, sound: Float64Array, window: { from: number; to: number }, lags: { from: number; to: number }): number {
  let sum = 0, known = 0;
  for (let lag = lags.from; lag <= lags.to; lag++) {
    const c = correlation(mouth, sound, window, lag);
    if (Number.isNaN(c)) continue;
    sum += c;
    known++;
  }
  return known ? sum / known : NaN;
}

/** The loudness at each hop, floored at silence (so room noise does not steer it). */
export function loudness(energy: Float32Array, silence: number): Float64Array {
  return Float64Array.from(energy, (e) => Math.max(e, silence));
}

/** How much the loudness (as `loudness` gives it) changes at each hop: |L[i] - L[i-1]|. */
export function soundChange(level: Float64Array): Float64Array {
  const out = new Float64Array(level.length);
  for (let i = 1; i < level.length; i++) out[i] = Math.abs(level[i] - level[i - 1]);
  return out;
}

/**
 * Each face's mouth movement on the voice model's hops: every measure belongs to the middle of
 * the two frames it compared, and is linearly interpolated between measures close enough
 * together; NaN elsewhere.
 */
export function mouthMovement(samples: SpeakingFace['samples'], voice: Pick<VoiceActivity, 'startMs' | 'hopMs' | 'probability'>, maxGapMs: number): Float64Array {
  const points = samples.flatMap((s) => (s.mouthMotion && Number.isFinite(s.mouthMotion.value) ? [{ t: s.timeMs - s.mouthMotion.overMs / 2, v: s.mouthMotion.value }] : []));
  return onHops(points, voice, maxGapMs);
}

/** Each face's mouth opening (lipGap) on the voice model's hops, interpolated as mouthMovement is. */
export function mouthOpening(samples: SpeakingFace['samples'], voice: Pick<VoiceActivity, 'startMs' | 'hopMs' | 'probability'>, maxGapMs: number): Float64Array {
  const points = samples.flatMap((s) => {
    const v = lipGap(s.lips);
    return Number.isFinite(v) ? [{ t: s.timeMs, v }] : [];
  });
  return onHops(points, voice, maxGapMs);
}

/** How open a mouth is: the gap between the inner lips' middles over the distance between the inner corners (NaN without one). */
export function lipGap(lips: readonly Point2[]): number {
  // the inner line (lips[20..39], types.ts) starts at the image-left corner, reaches the upper
  // lip's middle at 25, the right corner at 30 and the lower lip's middle at 35
  const [left, top, right, bottom] = [lips[20], lips[25], lips[30], lips[35]];
  if (!left || !top || !right || !bottom) return NaN;
  const width = Math.hypot(right[0] - left[0], right[1] - left[1]);
  return width > 0 ? Math.hypot(bottom[0] - top[0], bottom[1] - top[1]) / width : NaN;
}

/** Values at times, linearly interpolated on the hops between values close enough together; NaN elsewhere. */
function onHops(unsorted: { t: number; v: number }[], voice: Pick<VoiceActivity, 'startMs' | 'hopMs' | 'probability'>, maxGapMs: number): Float64Array {
  const n = voice.probability.length;
  const out = new Float64Array(n).fill(NaN);
  const points = unsorted.sort((a, b) => a.t - b.t);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const t = voice.startMs + (i + 0.5) * voice.hopMs;
    while (j + 1 < points.length && points[j + 1].t <= t) j++;
    const a = points[j], b = points[j + 1];
    if (!a || !b || a.t > t || b.t - a.t > maxGapMs) continue;
    const w = (t - a.t) / (b.t - a.t);
    out[i] = a.v * (1 - w) + b.v * w;
  }
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

function count(x: Float64Array, a: number, b: number): number {
  let k = 0;
  for (let i = a; i < b; i++) if (!Number.isNaN(x[i])) k++;
  return k;
}

/** Mean of the known values in [a, b); 0 when none is known. */
function mean(x: Float64Array, a: number, b: number): number {
  let s = 0, k = 0;
  for (let i = a; i < b; i++) {
    if (Number.isNaN(x[i])) continue;
    s += x[i];
    k++;
  }
  return k ? s / k : 0;
}

function variance(x: Float64Array, a: number, b: number): number {
  const m = mean(x, a, b);
  let s = 0, k = 0;
  for (let i = a; i < b; i++) {
    if (Number.isNaN(x[i])) continue;
    s += (x[i] - m) ** 2;
    k++;
  }
  return k ? s / k : 0;
}

/** Pearson correlation of mouth[i - lag] with sound[i] over i in the window (both known); NaN when too few or flat. */
function correlation(mouth: Float64Array, sound: Float64Array, window: { from: number; to: number }, lag: number): number {
  let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, k = 0;
  for (let i = window.from; i < window.to; i++) {
    const x = mouth[i - lag], y = sound[i];
    if (x === undefined || Number.isNaN(x) || y === undefined || Number.isNaN(y)) continue;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
    k++;
  }
  if (k < 8) return NaN;
  const vx = sxx / k - (sx / k) ** 2, vy = syy / k - (sy / k) ** 2;
  if (vx <= 1e-12 || vy <= 1e-12) return NaN;
  return (sxy / k - (sx / k) * (sy / k)) / Math.sqrt(vx * vy);
}
