import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeObservations } from '../../src/analysis/analyze.js';
import { DEFAULT_ANALYSIS_CONFIG as cfg } from '../../src/analysis/config.js';
import { joinPresences } from '../../src/analysis/identity.js';
import { longestUsable, type StateSpan } from '../../src/analysis/intervals.js';
import { buildTracks } from '../../src/analysis/tracker.js';
import type { FrameObservation } from '../../src/analysis/types.js';
import { judgeSighting } from '../../src/analysis/usability.js';
import { face, frameMs, frames, person } from './analysis-fixtures.js';

const analyze = (observations: FrameObservation[], endFrame: number) =>
  analyzeObservations({ observations, videoEndMs: frameMs(endFrame) }, cfg);

const intervals = (r: ReturnType<typeof analyze>) => r.faces.map((f) => [f.faceId, Math.round(f.startMs), Math.round(f.endMs)]);

describe('tracking', () => {
  it('follows one face and ends it at the first frame without it', () => {
    const obs = frames(0, 300, (f) => (f >= 30 && f < 210 ? [face(200 + f * 0.2)] : []));
    const tracks = buildTracks(obs, frameMs(300), cfg);
    assert.equal(tracks.length, 1);
    assert.equal(tracks[0].points[0].timeMs, 1000);
    assert.equal(tracks[0].endMs, 7000);
  });

  it('keeps two faces side by side apart', () => {
    const obs = frames(0, 90, () => [face(100), face(700)]);
    assert.equal(buildTracks(obs, frameMs(90), cfg).length, 2);
  });

  it('ends every track at a hard cut; identity joins them again when the appearance stays', () => {
    const make = (second: number) => {
      const obs = frames(0, 120, (f) => [face(300, f >= 57 && f <= 62 ? { embedding: person(f < 60 ? 1 : second) } : {})]);
      obs[60].cutBefore = true;
      return buildTracks(obs, frameMs(120), cfg);
    };
    const swapped = make(2);
    assert.equal(swapped.length, 2);
    assert.equal(swapped[0].endMs, 2000);
    assert.equal(swapped[1].points[0].timeMs, 2000);
    assert.equal(joinPresences(swapped, cfg, [2000]).length, 2);
    assert.equal(joinPresences(make(1), cfg, [2000]).length, 1);
  });

  it('judges identity across a cut on several views, so one odd view does not split or merge', () => {
    // a blink or a blur: one view whose similarity to the rest is under the threshold
    const c = cfg.samePersonSimilarity - 0.15;
    const odd = (v: Float32Array, k: number) => {
      const w = Float32Array.from(v);
      w[(k + 5) % w.length] = Math.sqrt(1 / (c * c) - 1);
      const n = Math.hypot(...w);
      return w.map((x) => x / n);
    };
    const obs = frames(0, 120, (f) => [face(300, f >= 57 && f <= 62 ? { embedding: f === 60 ? odd(person(1), 1) : person(1) } : {})]);
    obs[60].cutBefore = true;
    assert.equal(joinPresences(buildTracks(obs, frameMs(120), cfg), cfg, [frameMs(60)]).length, 1);
  });

  it('ends a track when the face jumps elsewhere', () => {
    const obs = frames(0, 60, (f) => [face(f < 30 ? 100 : 900)]);
    assert.equal(buildTracks(obs, frameMs(60), cfg).length, 2);
  });
});

describe('identity across gaps', () => {
  const withGap = (gapFrames: number, returning = 1) =>
    frames(0, 120 + gapFrames + 90, (f) => {
      if (f < 120) return [face(300, { embedding: person(1) })];
      if (f < 120 + gapFrames) return [];
      return [face(305, { embedding: person(returning) })];
    });

  it('a face unseen for 0.5 s keeps its id and its interval spans the gap', () => {
    const r = analyze(withGap(15), 225);
    assert.deepEqual(intervals(r), [['0', 0, 7500]]);
  });

  it('a face unseen for exactly 1.0 s keeps its id', () => {
    assert.equal(analyze(withGap(30), 240).faces.length, 1);
  });

  it('a face unseen for more than 1.0 s gets a new id', () => {
    const r = analyze(withGap(48), 258);
    assert.deepEqual(intervals(r), [['0', 0, 4000], ['1', 5600, 8600]]);
  });

  it('a different person in the same place after a short cut to a blank is a new face', () => {
    const obs = withGap(15, 2);
    obs[120].cutBefore = obs[135].cutBefore = true;
    assert.equal(analyze(obs, 225).faces.length, 2);
    const same = withGap(15, 1);
    same[120].cutBefore = same[135].cutBefore = true;
    assert.equal(analyze(same, 225).faces.length, 1);
  });

  it('within one shot, a face lost for a moment keeps its id even if a half-hidden view looks unlike it', () => {
    assert.equal(analyze(withGap(15, 2), 225).faces.length, 1);
  });

  it('a face returns where it was in its last half second, not only where it was last measured', () => {
    // the last measurements slid 80 px down (the mesh on a microphone), the face returns where it was
    const y = (f: number) => (f < 100 ? 200 + 10 * Math.max(0, f - 91) : 200);
    const obs = frames(0, 200, (f) => (f >= 100 && f < 103 ? [] : [face(300, { box: { x: 300, y: y(f), width: 120, height: 120 } })]));
    assert.equal(joinPresences(buildTracks(obs, frameMs(200), cfg), cfg).length, 1);
  });

  it('joins only tracks in the same place', () => {
    const obs = frames(0, 200, (f) => (f < 100 ? [face(100, { embedding: person(1) })] : f < 110 ? [] : [face(900, { embedding: person(1) })]));
    assert.equal(joinPresences(buildTracks(obs, frameMs(200), cfg), cfg).length, 2);
  });
});

describe('usability', () => {
  it('judges size in source pixels, pose, mouth and blur, in that order', () => {
    assert.equal(judgeSighting(face(0, { box: { x: 0, y: 0, width: 60, height: 80 } }), cfg).reason, 'too_small');
    assert.equal(judgeSighting(face(0, { box: { x: 0, y: 0, width: 90, height: 120 } }), cfg).usable, true);
    assert.equal(judgeSighting(face(0, { yaw: 50 }), cfg).reason, 'turned_away');
    assert.equal(judgeSighting(face(0, { pitch: -35 }), cfg).reason, 'turned_away');
    assert.equal(judgeSighting(face(0, { yaw: 44, pitch: 29 }), cfg).usable, true);
    assert.equal(judgeSighting(face(0, { mouthInFrame: false }), cfg).reason, 'mouth_out_of_frame');
    assert.equal(judgeSighting(face(0, { mouthHidden: true }), cfg).reason, 'mouth_hidden');
    assert.equal(judgeSighting(face(0, { sharpness: 1 }), cfg).reason, 'blurry');
  });

  it('bridges unusable dips of up to 0.5 s, not longer ones', () => {
    const spans = (dipMs: number): StateSpan[] => [
      { startMs: 0, endMs: 3000, state: 'usable' },
      { startMs: 3000, endMs: 3000 + dipMs, state: 'unusable', reason: 'turned_away' },
      { startMs: 3000 + dipMs, endMs: 5000 + dipMs, state: 'usable' },
    ];
    assert.deepEqual(longestUsable(spans(500), cfg), { startMs: 0, endMs: 5500 });
    assert.deepEqual(longestUsable(spans(600), cfg), { startMs: 0, endMs: 3000 });
  });

  it('takes the longest usable stretch of a presence', () => {
    const obs = frames(0, 300, (f) => [face(300, { yaw: f >= 90 && f < 120 ? 60 : 0 })]);
    const r = analyze(obs, 300);
    assert.deepEqual(intervals(r), [['0', 4000, 10000]]);
  });

  it('rejects a face whose interval is under 2000 ms, with its reason', () => {
    const brief = analyze(frames(0, 120, (f) => (f >= 30 && f < 89 ? [face(300)] : [])), 120);
    assert.equal(brief.faces.length, 0);
    assert.equal(brief.rejected[0].reason, 'too_short');
    assert.equal(Math.round(brief.rejected[0].startMs), 1000);

    const turned = analyze(frames(0, 150, () => [face(300, { yaw: 70 })]), 150);
    assert.equal(turned.faces.length, 0);
    assert.equal(turned.rejected[0].reason, 'turned_away');

    const mostlyTurned = analyze(frames(0, 150, (f) => [face(300, { yaw: f < 40 ? 0 : 70 })]), 150);
    assert.equal(mostlyTurned.rejected[0].reason, 'turned_away');
  });

  it('a face exactly 2000 ms long is kept', () => {
    assert.equal(analyze(frames(0, 90, (f) => (f < 60 ? [face(300)] : [])), 90).faces.length, 1);
  });

  it('works from sparse samples: a state holds until the next analysed frame', () => {
    const obs = frames(0, 300, (f) => (f < 200 ? [face(300)] : []), 10);
    assert.deepEqual(intervals(analyze(obs, 300)), [['0', 0, Math.round(frameMs(200))]]);
  });
});

describe('face ids', () => {
  it('are ordered by start time, ties left to right', () => {
    const obs = frames(0, 300, (f) => {
      const out = [];
      if (f >= 60) out.push(face(900, { embedding: person(3) }));
      out.push(face(500, { embedding: person(2) }));
      if (f >= 60) out.push(face(100, { embedding: person(4) }));
      return out;
    });
    const r = analyze(obs, 300);
    assert.deepEqual(r.faces.map((f) => [f.faceId, Math.round(f.startMs), Math.round(f.best.sighting.box.x)]), [
      ['0', 0, 500],
      ['1', 2000, 100],
      ['2', 2000, 900],
    ]);
  });

  it('no face is not an error', () => {
    const r = analyze(frames(0, 90, () => []), 90);
    assert.deepEqual(r, { faces: [], rejected: [], audio: { present: false, speech: [] } });
  });
});

describe('the picture view', () => {
  // 90 frames of one face; the clearest view (largest) is far from a keyframe
  const run = (nearKeyWidth: number) => {
    const obs = frames(0, 90, (f) => [face(100, { box: { x: 100, y: 100, width: f === 60 ? 200 : f === 30 ? nearKeyWidth : 150, height: 200 } })], 3).map(
      (o): FrameObservation => ({ ...o, fromKeyMs: o.frame >= 30 ? frameMs(o.frame - 30) : frameMs(o.frame) }),
    );
    return analyzeObservations({ observations: obs, videoEndMs: frameMs(90) }, cfg).faces[0].best;
  };

  it('takes a view nearly as clear as the clearest that is a keyframe, as its picture costs no decoding', () => {
    const best = run(192);
    assert.equal(best.timeMs, frameMs(30));
    assert.equal(best.fromKeyMs, 0);
  });

  it('keeps the clearest view when the keyframe view is clearly worse', () => {
    const best = run(170);
    assert.equal(best.timeMs, frameMs(60));
    assert.equal(best.fromKeyMs, frameMs(30));
  });

  it("says a view on the face's first frame is on a keyframe, when it is (so its picture is cut from that frame alone)", () => {
    // the face appears on a keyframe, clearest there; frames after it are farther from that keyframe
    const obs = frames(0, 90, (f) => [face(100, { box: { x: 100, y: 100, width: f === 0 ? 200 : 150, height: 200 } })], 3).map(
      (o): FrameObservation => ({ ...o, fromKeyMs: frameMs(o.frame) }),
    );
    const best = analyzeObservations({ observations: obs, videoEndMs: frameMs(90) }, cfg).faces[0].best;
    assert.equal(best.timeMs, 0);
    assert.equal(best.fromKeyMs, 0);
  });
});
