import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attributeSpeech, type SpeakingFace } from '../../src/analysis/speaking.ts';
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

/** The voice model's view of one talker's voice (or of silence). */
function voiceOf(speech: ((tMs: number) => number) | null): VoiceActivity {
  const probability = new Float32Array(HOPS), energy = new Float32Array(HOPS);
  for (let i = 0; i < HOPS; i++) {
    const t = (i + 0.5) * HOP_MS;
    const level = speech ? speech(t) : 0;
    energy[i] = Math.log(1e-6 + 0.05 * level * level);
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
  return { startMs: 0, hopMs: HOP_MS, probability, energy, speech: spans };
}

/** A face at x whose inner lip gap follows opening(t) (in eye distances), measured every 66 ms with a little mesh noise. */
function face(x: number, opening: (tMs: number) => number, seed: number): SpeakingFace {
  const rnd = random(seed);
  const samples: FaceSample[] = [];
  const eye = 60;
  for (let t = 0; t < DURATION_MS; t += 66) {
    const gap = eye * Math.max(0, opening(t) + (rnd() - 0.5) * 0.01);
    const lips: Point2[] = [];
    for (let k = 0; k < 40; k++) lips.push([x + (k % 20) * 2, 200]);
    lips[25] = [x + 20, 200 - gap / 2];
    lips[35] = [x + 20, 200 + gap / 2];
    samples.push({
      timeMs: t,
      box: { x: x - 40, y: 60, width: 120, height: 180 },
      keypoints: [[x - 10, 120], [x + 50, 120], [x + 20, 160], [x, 200], [x + 40, 200]],
      lips,
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

test('a narrator over a silent face: the still face is not speaking, nor is a talker out of sync with the voice', () => {
  const narrator = talking(4), other = talking(5);
  const voice = voiceOf(narrator);
  const [photo] = attributeSpeech([face(300, still, 31)], voice);
  assert.deepEqual(photo, []);
  const [mismatched] = attributeSpeech([face(300, mouthOf(other), 32)], voice);
  assert.ok(total(mismatched) <= 0.15 * speechTime(voice), `out-of-sync talker: ${total(mismatched)} ms of ${speechTime(voice)} ms`);
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
