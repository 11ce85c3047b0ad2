import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecodedFrame } from '../../src/media/types.js';
import { keepLipRate, lipsFollowedAt, tooSparseForLips, type LipRateOptions } from '../../src/pipeline/lip-rate.js';

const every = 1000 / 15;

/** A fake decoder giving out frames at these times (ms), numbered from 0; counts what it gave out and whether it was closed, and each frame's release. */
function decoder(times: readonly number[]) {
  const state = { given: 0, closed: false, released: new Set<number>() };
  async function* frames(): AsyncGenerator<DecodedFrame> {
    try {
      for (const [index, timeMs] of times.entries()) {
        state.given++;
        yield { index, timeMs, key: index === 0, width: 2, height: 2, data: new Uint8Array(6), release: () => state.released.add(timeMs) };
      }
    } finally {
      state.closed = true;
    }
  }
  return { frames: frames(), state };
}

/** Frame times: `fps` from `fromMs` (inclusive) to `toMs` (exclusive), rounded to whole ms as decoders give them. */
const run = (fromMs: number, toMs: number, fps: number) => Array.from({ length: Math.ceil(((toMs - fromMs) * fps) / 1000) }, (_, i) => Math.round(fromMs + (i * 1000) / fps));
const everyOther = (times: number[]) => times.filter((_, i) => i % 2 === 0);

async function collect(reference: number[], all: number[], speech: LipRateOptions['speech'], frameMs: number) {
  const ref = decoder(reference);
  const dense = decoder(all);
  let reopened = 0;
  const told: boolean[] = [];
  const out: DecodedFrame[] = [];
  for await (const f of keepLipRate(ref.frames, {
    speech,
    everyMs: every,
    frameMs,
    probeFrames: 9,
    everyFrame: () => {
      reopened++;
      return dense.frames;
    },
    onDecoding: (referenceOnly) => told.push(referenceOnly),
  })) {
    out.push(f);
  }
  return { out, times: out.map((f) => f.timeMs), indexes: out.map((f) => f.index), told, reopened, ref: ref.state, dense: dense.state };
}

describe('tooSparseForLips', () => {
  it('is true for reference frames every other frame at 25 fps, or every third at 30 fps', () => {
    assert.equal(tooSparseForLips([0, 80, 160, 240, 320, 400, 480, 560, 640], every, 40), true);
    assert.equal(tooSparseForLips([0, 100, 200, 300, 400, 500], every, 1000 / 30), true);
  });
  it('is false for every other frame at 30 fps (rounded times), every frame at 25 fps, or no frames to tell', () => {
    assert.equal(tooSparseForLips([0, 67, 133, 200, 267, 333, 400, 467, 533], every, 1000 / 30), false);
    assert.equal(tooSparseForLips([0, 40, 80, 120, 160], every, 40), false);
    assert.equal(tooSparseForLips([0], every, 40), false);
  });
  it('goes by the typical distance: one long gap (a keyframe after an open GOP) does not decide', () => {
    assert.equal(tooSparseForLips([0, 200, 240, 280, 320, 360, 400], every, 40), false);
  });
});

describe('lipsFollowedAt', () => {
  it('is true while a voice is heard and half a second around it', () => {
    const speech = [{ startMs: 2000, endMs: 3000 }];
    assert.deepEqual([1499, 1500, 2500, 3499, 3500].map((t) => lipsFollowedAt(speech, t)), [false, true, true, true, false]);
  });
});

describe('keepLipRate', () => {
  it('gives out the reference frames as they come when they are close enough (30 fps, every other frame)', async () => {
    const all = run(0, 3000, 30);
    const r = await collect(everyOther(all), all, [{ startMs: 500, endMs: 2500 }], 1000 / 30);
    assert.deepEqual(r.times, everyOther(all));
    assert.deepEqual(r.told, [true]);
    assert.equal(r.reopened, 0);
    assert.ok(r.ref.closed);
  });

  it('without a voice never looks at how far apart they come', async () => {
    const all = run(0, 3000, 25);
    const r = await collect(everyOther(all), all, [], 40);
    assert.deepEqual(r.times, everyOther(all));
    assert.deepEqual(r.told, [true]);
    assert.equal(r.reopened, 0);
  });

  it('decodes every frame from the start when the first ones are too sparse and a voice is heard anywhere', async () => {
    const all = run(0, 3000, 25);
    const r = await collect(everyOther(all), all, [{ startMs: 2000, endMs: 2500 }], 40);
    assert.deepEqual(r.times, all, 'every frame, from the first');
    assert.deepEqual(r.indexes, all.map((_, i) => i));
    assert.deepEqual(r.told, [false], 'told once, before any frame');
    assert.equal(r.ref.given, 9, 'the reference decoder gave out only the probe');
    assert.ok(r.ref.closed && r.dense.closed);
    assert.equal(r.ref.released.size, 9, 'the probe frames were handed back');
  });

  it('switches to every frame where the frame rate drops while a voice is heard, numbering on from the last frame given out', async () => {
    // 30 fps for 2 s, then 25 fps: with B-frames, reference frames 15 then 12.5 a second
    const all = [...run(0, 2000, 30), ...run(2000, 4000, 25)];
    const reference = everyOther(all);
    const r = await collect(reference, all, [{ startMs: 2500, endMs: 3500 }], 1000 / 30);
    assert.deepEqual(r.told, [true, false]);
    assert.equal(r.reopened, 1);
    const switchedAt = r.times.findIndex((t, i) => i > 0 && !reference.includes(t));
    assert.ok(switchedAt > 0, 'every frame from some point on');
    const lastReference = r.times[switchedAt - 1];
    assert.ok(lastReference >= 2000 - 500 && lastReference < 2500, `switched at ${lastReference} ms: once 9 frames in a row came too far apart where the lips are followed`);
    assert.deepEqual(r.times.slice(switchedAt), all.filter((t) => t > lastReference), 'every frame after the last one given out, none twice');
    assert.deepEqual(r.indexes, r.out.map((_, i) => i), 'numbered on without a gap');
    assert.ok([...r.dense.released].every((t) => t <= lastReference), 'the frames passed over were handed back');
    assert.ok(r.ref.closed && r.dense.closed);
  });

  it('keeps the reference frames where the rate drops outside the voice', async () => {
    const all = [...run(0, 2000, 30), ...run(2000, 4000, 25)];
    const r = await collect(everyOther(all), all, [{ startMs: 200, endMs: 1000 }], 1000 / 30);
    assert.deepEqual(r.times, everyOther(all));
    assert.equal(r.reopened, 0);
  });

  it('closes both decoders when the consumer stops early', async () => {
    const all = [...run(0, 2000, 30), ...run(2000, 4000, 25)];
    const ref = decoder(everyOther(all));
    const dense = decoder(all);
    const opts = { speech: [{ startMs: 2500, endMs: 3500 }], everyMs: every, frameMs: 1000 / 30, probeFrames: 9, everyFrame: () => dense.frames, onDecoding: () => undefined };
    for await (const f of keepLipRate(ref.frames, opts)) if (f.timeMs > 3000) break;
    assert.ok(ref.state.closed && dense.state.closed);
  });
});
