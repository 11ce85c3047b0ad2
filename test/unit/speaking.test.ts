import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attributeSpeech, judgedWindow, judgePart, judgeParts, lipGap, loudness, mouthOpening, mouthSignal, soundChange, speechParts, SPEAKING_RULES, type SpeakingFace } from '../../src/analysis/speaking.ts';
import type { FaceSample, Point2, TimeSpan, VoiceActivity } from '../../src/analysis/types.ts';

const HOP_MS = 32;
const DURATION_MS = 10_000;
const HOPS = Math.floor(DURATION_MS / HOP_MS);

/** A small deterministic random generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Someone talking: syllables of 120–280 ms with short gaps, and pauses of 0.4–0.8 s between phrases; 0..1 per ms. */
function talking(seed: number): (tMs: number) => number {
  const rnd = random(seed);
  const syllables: { at: number; len: number; loud: number }[] = [];
  for (let t = 200; t < DURATION_MS; ) {
    const phraseEnd = t + 1200 + rnd() * 1500;
    for (; t < phraseEnd; ) {
      const len = 120 + rnd() * 160;
      syllables.push({ at: t, len, loud: 0.5 + 0.5 * rnd() });
      t += len + 30 + rnd() * 60;
    }
    t += 400 + rnd() * 400;
  }
  return (tMs) => {
    const s = syllables.find((x) => tMs >= x.at && tMs < x.at + x.len);
    return s ? s.loud * Math.sin((Math.PI * (tMs - s.at)) / s.len) : 0;
  };
}

/** The voice model's view of one talker's voice (or of silence); the voice sounds as open as it is loud (sound-opening.ts: 0 in silence). */
function voiceOf(speech: ((tMs: number) => number) | null): VoiceActivity {
  const probability = new Float32Array(HOPS), energy = new Float32Array(HOPS), opening = new Float32Array(HOPS);
  for (let i = 0; i < HOPS; i++) {
    const t = (i + 0.5) * HOP_MS;
    const level = speech ? speech(t) : 0;
    energy[i] = Math.log(1e-6 + 0.05 * level * level);
    opening[i] = 2 * level;
    // speech is heard through a phrase's short gaps, as a voice model hears it
    let near = 0;
    for (let d = -150; d <= 150; d += 25) near = Math.max(near, speech ? speech(t + d) : 0);
    probability[i] = near > 0.05 ? 0.95 : 0.02;
  }
  const spans: TimeSpan[] = [];
  for (let i = 0; i < HOPS; i++) {
    if (probability[i] < 0.5) continue;
    const last = spans[spans.length - 1];
    if (last && last.endMs >= i * HOP_MS - 250) last.endMs = (i + 1) * HOP_MS;
    else spans.push({ startMs: i * HOP_MS, endMs: (i + 1) * HOP_MS });
  }
  return { startMs: 0, hopMs: HOP_MS, probability, energy, opening, speech: spans };
}

/**
 * A face at x whose mouth opening follows opening(t) (in eye distances), seen every 66 ms: its
 * lips, and its mouth movement as the pixels show it (vision/mouth-motion.ts: about 3× the change
 * of the opening between the frames compared, plus a little compression noise).
 */
function face(x: number, opening: (tMs: number) => number, seed: number): SpeakingFace {
  const rnd = random(seed);
  const samples: FaceSample[] = [];
  const eye = 60;
  for (let t = 0; t < DURATION_MS; t += 66) {
    const gap = eye * Math.max(0, opening(t));
    const lips: Point2[] = [];
    for (let k = 0; k < 40; k++) lips.push([x + (k % 20) * 2, 200]);
    lips[25] = [x + 20, 200 - gap / 2];
    lips[35] = [x + 20, 200 + gap / 2];
    samples.push({
      timeMs: t,
      box: { x: x - 40, y: 60, width: 120, height: 180 },
      keypoints: [[x - 10, 120], [x + 50, 120], [x + 20, 160], [x, 200], [x + 40, 200]],
      lips,
      ...(t > 0 && { mouthMotion: { value: 3 * Math.abs(opening(t) - opening(t - 66)) + 0.02 * rnd(), overMs: 66 } }),
    });
  }
  return { startMs: 0, endMs: DURATION_MS, samples };
}

/** The mouth opens with the sound it makes, a little before it. */
const mouthOf = (speech: (tMs: number) => number) => (tMs: number) => 0.03 + 0.3 * speech(tMs + 60);
const still = () => 0.05;

const total = (spans: TimeSpan[]) => spans.reduce((s, x) => s + x.endMs - x.startMs, 0);
const speechTime = (v: VoiceActivity) => total(v.speech);

test('a lone speaker whose mouth moves with the voice is speaking through most of the speech', () => {
  const a = talking(1);
  const voice = voiceOf(a);
  const [spans] = attributeSpeech([face(300, mouthOf(a), 11)], voice);
  assert.ok(total(spans) >= 0.7 * speechTime(voice), `speaking ${total(spans)} ms of ${speechTime(voice)} ms of speech`);
  for (const s of spans) assert.ok(voice.speech.some((v) => s.startMs >= v.startMs && s.endMs <= v.endMs), 'speaking only while a voice is heard');
});

test('a muted talker beside the speaker is not speaking; the speaker is', () => {
  const a = talking(2), b = talking(3);
  const voice = voiceOf(a);
  const [speaker, muted] = attributeSpeech([face(300, mouthOf(a), 21), face(900, mouthOf(b), 22)], voice);
  assert.ok(total(speaker) >= 0.6 * speechTime(voice), `speaker: ${total(speaker)} ms of ${speechTime(voice)} ms`);
  assert.ok(total(muted) <= 0.15 * speechTime(voice), `muted talker: ${total(muted)} ms of ${speechTime(voice)} ms`);
  // the same, with the faces listed the other way round
  const [muted2, speaker2] = attributeSpeech([face(900, mouthOf(b), 22), face(300, mouthOf(a), 21)], voice);
  assert.ok(total(speaker2) > 3 * total(muted2));
});

/**
 * A face whose mouth measure follows its own loudness, 60 ms ahead (a mouth open through a vowel
 * moves the pixels as long as it sounds), plus measurement noise of ±0.2 (small faces, compression);
 * its lips open with its speech, with noise of their own.
 */
function measured(speech: (tMs: number) => number, seed: number): SpeakingFace {
  const f = face(0, (t) => 0.03 + 0.3 * speech(t + 60), seed);
  const rnd = random(seed + 1);
  return {
    ...f,
    samples: f.samples.map((s) => {
      const lips = s.lips.map((p): Point2 => [p[0], p[1]]);
      const jitter = 3 * (rnd() - 0.5);
      lips[25] = [lips[25][0], lips[25][1] - jitter];
      return { ...s, lips, mouthMotion: { value: Math.max(0, 0.05 + 0.4 * speech(s.timeMs - 33 + 60) + 0.4 * (rnd() - 0.5)), overMs: 66 } };
    }),
  };
}

/**
 * Over 30 pairs of talkers (from firstSeed), each measured noisily, the first one heard: the
 * share of the speech given to the speaker (as `seen` makes its measure) and to the muted talker.
 */
function pairShares(firstSeed: number, seen: (f: SpeakingFace, seed: number) => SpeakingFace = (f) => f): { speaker: number; muted: number } {
  let speech = 0, speaker = 0, muted = 0;
  for (let seed = firstSeed; seed < firstSeed + 30; seed++) {
    const a = talking(seed), b = talking(seed + 1000);
    const voice = voiceOf(a);
    const [s, m] = attributeSpeech([seen(measured(a, seed * 7), seed), measured(b, seed * 7 + 1)], voice);
    speech += speechTime(voice);
    speaker += total(s);
    muted += total(m);
  }
  return { speaker: speaker / speech, muted: muted / speech };
}

test('over many pairs with noisy mouth measures, the speaker gets the speech and the muted talker hardly any', () => {
  const { speaker, muted } = pairShares(100);
  // the loudness change alone over 0–160 ms (the rule before) gives the speaker 0.79 of it here
  assert.ok(speaker >= 0.9, `speaker: ${speaker.toFixed(2)} of the speech`);
  assert.ok(muted <= 0.08, `muted talker: ${muted.toFixed(2)} of the speech`);
});

test('a speaker whose head turns now and then keeps its speech beside a muted talker', () => {
  // the speaker's head turns (or its picture jumps) three times in every 10 s: the mouth region
  // moves by 1.2 for two frames, three times what talking moves it
  const jumpy = (f: SpeakingFace, seed: number): SpeakingFace => {
    const rnd = random(seed);
    const at = [0, 1, 2].map(() => 500 + rnd() * (DURATION_MS - 1000));
    return { ...f, samples: f.samples.map((s) => (at.some((t) => s.timeMs >= t && s.timeMs < t + 132) ? { ...s, mouthMotion: { value: 1.2, overMs: 66 } } : s)) };
  };
  const { speaker, muted } = pairShares(200, jumpy);
  // 0.88 and 0.09 here; with the movement correlated as it is (not on a log scale), 0.76 and 0.14
  assert.ok(speaker >= 0.84, `speaker: ${speaker.toFixed(2)} of the speech`);
  assert.ok(muted <= 0.11, `muted talker: ${muted.toFixed(2)} of the speech`);
});

test('the mouth is correlated on a log scale; its movement is kept as measured', () => {
  const movement = Float64Array.from([0, 0.2, NaN, 0.4]);
  const opening = Float64Array.from([0.1, NaN, 0.3, 0.2]);
  const { movement: kept, logMovement, opening: open } = mouthSignal(movement, opening, { movementFloor: 0.02, smoothHops: 0 });
  assert.deepEqual([...kept], [0, 0.2, NaN, 0.4]);
  assert.deepEqual([...logMovement], [Math.log(0 + 0.02), Math.log(0.2 + 0.02), NaN, Math.log(0.4 + 0.02)]);
  assert.deepEqual([...open], [0.1, NaN, 0.3, 0.2]);
});

test('synchrony is the mean of the correlations with the loudness and with its change, each averaged over the lags', () => {
  const a = talking(14);
  const voice = voiceOf(a);
  const silence = SPEAKING_RULES.silenceLogPower;
  const level = loudness(voice.energy, silence), change = soundChange(level);
  // a mouth that moves with the loudness, 4 hops (128 ms) before it
  const mouth = Float64Array.from(level, (_, i) => level[Math.min(level.length - 1, i + 4)]);
  // judged as it is (the log scale is mouthSignal's, tested below)
  const as = (m: Float64Array) => ({ movement: m, logMovement: m, opening: m });
  const window = { from: 10, to: 200 }, lags = { from: 0, to: 8 };
  const opening = Float64Array.from(voice.opening);
  const both = judgePart(as(mouth), [level, change], opening, window, window, lags, 0.5)!;
  const alone = [level, change].map((s) => judgePart(as(mouth), [s], opening, window, window, lags, 0.5)!.sync);
  assert.ok(Math.abs(both.sync - (alone[0] + alone[1]) / 2) < 1e-9);
  // the mouth moves before the sound it makes: a mouth moving after it is less in step
  const late = Float64Array.from(level, (_, i) => level[Math.max(0, i - 4)]);
  const lateSync = judgePart(as(late), [level, change], opening, window, window, lags, 0.5)!.sync;
  assert.ok(both.sync > 0.15 && both.sync > lateSync + 0.1, `before the sound ${both.sync}, after it ${lateSync}`);
  // a mouth known on too few hops is not judged
  assert.equal(judgePart(as(Float64Array.from(mouth, (v, i) => (i % 4 ? NaN : v))), [level], opening, window, window, lags, 0.5), undefined);
});

test('a narrator over a still face: the face is not speaking, nor is a face whose mouth hardly moves', () => {
  const narrator = talking(4);
  const voice = voiceOf(narrator);
  const [photo] = attributeSpeech([face(300, still, 31)], voice);
  assert.deepEqual(photo, []);
  // in step with the voice, but moving less than a still mouth's compression noise allows
  const [barely] = attributeSpeech([face(300, (t) => 0.05 + 0.004 * narrator(t + 60), 32)], voice, { ...SPEAKING_RULES, minMotion: 0.05 });
  assert.deepEqual(barely, []);
});

test('the voice passing from one face to the other without a pause goes with it', () => {
  const a = talking(8), b = talking(9);
  const switchMs = 5000;
  const heard = (t: number) => (t < switchMs ? a(t) : b(t));
  const voice = voiceOf(heard);
  const [first, second] = attributeSpeech([face(300, mouthOf(a), 61), face(900, mouthOf(b), 62)], voice);
  const within = (spans: TimeSpan[], from: number, to: number) => total(spans.map((s) => ({ startMs: Math.max(s.startMs, from), endMs: Math.min(s.endMs, to) })).filter((s) => s.endMs > s.startMs));
  const before = within(voice.speech, 0, switchMs), after = within(voice.speech, switchMs, DURATION_MS);
  assert.ok(within(first, 0, switchMs) >= 0.5 * before, `first face before the switch: ${within(first, 0, switchMs)} of ${before} ms`);
  assert.ok(within(second, switchMs, DURATION_MS) >= 0.5 * after, `second face after the switch: ${within(second, switchMs, DURATION_MS)} of ${after} ms`);
  // a part of the speech (about 4 s) may straddle the switch; beyond it, each face is silent
  assert.equal(within(first, switchMs + 4000, DURATION_MS), 0);
  assert.equal(within(second, 0, switchMs - 4000), 0);
});

test('speech is judged in parts: cut where a face comes or goes, long stretches in parts of about 4 s, slivers left out', () => {
  const parts = speechParts([{ startMs: 0, endMs: 9000 }, { startMs: 9500, endMs: 9600 }], [{ startMs: 0, endMs: 3000 }, { startMs: 2900, endMs: 9000 }], SPEAKING_RULES);
  assert.deepEqual(parts.map((p) => [Math.round(p.startMs), Math.round(p.endMs)]), [
    [0, 2900],
    [2900, 3000],
    [3000, 6000],
    [6000, 9000],
  ].filter(([a, b]) => b - a >= SPEAKING_RULES.minPartMs));
});

test('each face is judged over the part and a margin, at least windowMs long, moved inside its presence', () => {
  const rules = { marginMs: 500, windowMs: 4000 };
  const span = (w: TimeSpan) => [Math.round(w.startMs), Math.round(w.endMs)];
  // a long part: itself and the margin on each side
  assert.deepEqual(span(judgedWindow({ startMs: 3000, endMs: 8000 }, { startMs: 0, endMs: 20_000 }, rules)), [2500, 8500]);
  // a short part in the middle: the least length, centred on it
  assert.deepEqual(span(judgedWindow({ startMs: 5000, endMs: 6000 }, { startMs: 0, endMs: 20_000 }, rules)), [3500, 7500]);
  // near the face's start or end: moved inside, not cut
  assert.deepEqual(span(judgedWindow({ startMs: 100, endMs: 900 }, { startMs: 0, endMs: 20_000 }, rules)), [0, 4000]);
  assert.deepEqual(span(judgedWindow({ startMs: 7000, endMs: 7500 }, { startMs: 2000, endMs: 8000 }, rules)), [4000, 8000]);
  // a presence shorter than the least length: all of it
  assert.deepEqual(span(judgedWindow({ startMs: 1000, endMs: 2000 }, { startMs: 500, endMs: 3000 }, rules)), [500, 3000]);
});

test('a lone talker out of step with the voice is told from the speaker by synchrony', () => {
  // what the measures see (the decision for a lone moving face under a narrator is weak: README, Who is speaking)
  const narrator = talking(4), other = talking(5);
  const voice = voiceOf(narrator);
  const [own] = attributeSpeech([face(300, mouthOf(narrator), 33)], voice);
  const [mismatched] = attributeSpeech([face(300, mouthOf(other), 32)], voice);
  assert.ok(total(own) > total(mismatched), `in step ${total(own)} ms, out of step ${total(mismatched)} ms`);
});

test('a silent soundtrack: nobody is speaking', () => {
  const a = talking(6);
  const voice = voiceOf(null);
  assert.deepEqual(voice.speech, []);
  assert.deepEqual(attributeSpeech([face(300, mouthOf(a), 41), face(900, still, 42)], voice), [[], []]);
});

test('speaking stays inside the face presence', () => {
  const a = talking(7);
  const voice = voiceOf(a);
  const f = face(300, mouthOf(a), 51);
  const [spans] = attributeSpeech([{ ...f, startMs: 2000, endMs: 6000, samples: f.samples.filter((s) => s.timeMs >= 2000 && s.timeMs < 6000) }], voice);
  assert.ok(spans.length > 0);
  for (const s of spans) assert.ok(s.startMs >= 2000 && s.endMs <= 6000, `${s.startMs}-${s.endMs}`);
});

test('every part is judged for the faces present through all of it, and the speaker\'s own parts stand out', () => {
  const a = talking(8), b = talking(9);
  const voice = voiceOf(a);
  const speaker = face(300, mouthOf(a), 71);
  const muted = face(900, mouthOf(b), 72);
  const late = { ...muted, startMs: 5000, samples: muted.samples.filter((s) => s.timeMs >= 5000) };
  const parts = judgeParts([speaker, late], voice);
  // the late face's arrival cuts the speech: parts before it and after it
  assert.ok(parts.some(({ part }) => part.endMs <= 5000) && parts.some(({ part }) => part.startMs >= 5000), JSON.stringify(parts.map((p) => p.part)));
  for (const { part, judged } of parts) {
    assert.ok(judged.some((j) => j.face === 0), `the speaker is judged at ${part.startMs}`);
    assert.equal(judged.some((j) => j.face === 1), part.startMs >= 5000, `the late face is judged only once it is there (${part.startMs}-${part.endMs})`);
    const [own, other] = [0, 1].map((k) => judged.find((j) => j.face === k)?.judgement.sync);
    if (other !== undefined) assert.ok(own! > other, `part ${part.startMs}: speaker ${own} against ${other}`);
  }
});

test('the opening: the inner lips\' gap over the inner corners\' distance, on the voice\'s hops', () => {
  const lips: Point2[] = Array.from({ length: 40 }, () => [0, 0]);
  lips[20] = [100, 200];
  lips[30] = [140, 200];
  lips[25] = [120, 195];
  lips[35] = [120, 205];
  assert.equal(lipGap(lips), 10 / 40);
  lips[30] = [100, 200];
  assert.ok(Number.isNaN(lipGap(lips)), 'no width, no opening');
  assert.ok(Number.isNaN(lipGap([])));
  // measured at each sample's time, interpolated between samples close enough together
  const f = face(300, (t) => (t < 1000 ? 0.1 : 0.3), 81);
  const open = mouthOpening(f.samples, voiceOf(null), SPEAKING_RULES.maxSampleGapMs);
  assert.ok(Math.abs(open[5] - (60 * 0.1) / 20) < 1e-9 && Math.abs(open[100] - (60 * 0.3) / 20) < 1e-9, `${open[5]} ${open[100]}`);
});

test('a speaker whose mouth movement the loudness does not follow is found by the opening of its lips', () => {
  // the pixels move at random (a hand, a microphone, nasal speech whose loudness the mouth does not
  // follow), but the lips open with the voice's opening: the opening alone carries the evidence
  let speech = 0, speaker = 0, muted = 0;
  for (let seed = 300; seed < 320; seed++) {
    const a = talking(seed), b = talking(seed + 1000);
    const voice = voiceOf(a);
    const rnd = random(seed);
    const unrelated = (f: SpeakingFace): SpeakingFace => ({ ...f, samples: f.samples.map((s) => ({ ...s, mouthMotion: { value: 0.1 + 0.3 * rnd(), overMs: 66 } })) });
    const [s, m] = attributeSpeech([unrelated(face(300, mouthOf(a), seed * 3)), unrelated(face(900, mouthOf(b), seed * 3 + 1))], voice);
    speech += speechTime(voice);
    speaker += total(s);
    muted += total(m);
  }
  // 0.37 and 0.03 here: the opening alone is weaker evidence than a mouth that moves in step too
  assert.ok(speaker / speech >= 0.3, `speaker: ${(speaker / speech).toFixed(2)} of the speech`);
  assert.ok(muted / speech <= 0.08, `muted talker: ${(muted / speech).toFixed(2)} of the speech`);
  // without the opening's weight, the same faces' movement alone does not find the speaker
  let without = 0;
  for (let seed = 300; seed < 320; seed++) {
    const a = talking(seed);
    const rnd = random(seed);
    const f = face(300, mouthOf(a), seed * 3);
    const [s] = attributeSpeech([{ ...f, samples: f.samples.map((x) => ({ ...x, mouthMotion: { value: 0.1 + 0.3 * rnd(), overMs: 66 } })) }], voiceOf(a), { ...SPEAKING_RULES, openingWeight: 0 });
    without += total(s);
  }
  assert.ok(without < 0.2 * speaker, `without the opening ${without} ms, with it ${speaker} ms`);
});
