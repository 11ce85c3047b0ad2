import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameTracks, type BoxCorners, type FrameTrackInput, type TrackedFace } from '../../src/analysis/frame-tracks.ts';
import type { FaceSample, Keypoints, Point2 } from '../../src/analysis/types.ts';
import { tracksDocument, type TracksSummary } from '../../src/pipeline/tracks-document.ts';

const FPS = 25; // whole ms a frame, so interpolated values are exact
const at = (i: number) => Math.round((i * 1000) / FPS);
const framesOf = (n: number) => Array.from({ length: n }, (_, i) => at(i));

/** A face whose box is 200×240 with its top-left corner at (x, y); keypoints and lips move with it. */
function sample(timeMs: number, x: number, y = 100, lips = 40): FaceSample {
  const kp: Keypoints = [[x + 60, y + 80], [x + 140, y + 80], [x + 100, y + 130], [x + 70, y + 180], [x + 130, y + 180]];
  const mouth: Point2[] = Array.from({ length: lips }, (_, k) => [x + 70 + k, y + 180 + (k % 2)]);
  return { timeMs, box: { x, y, width: 200, height: 240 }, keypoints: kp, lips: mouth };
}

function input(faces: TrackedFace[], n: number, cutsMs: number[] = [], framesMs = framesOf(n)): FrameTrackInput {
  return { width: 1280, height: 720, framesMs, cutsMs, faces };
}

const seenAll = (from: number, to: number) => [{ startMs: from, endMs: to }];
const centreX = (b: BoxCorners) => (b[0] + b[2]) / 2;

describe('per-frame tracks (frame-tracks.ts)', () => {
  it('fills every frame between analysed frames by linear interpolation, keypoints and lips too', () => {
    const face: TrackedFace = { startMs: 0, endMs: at(11), seen: seenAll(0, at(11)), samples: [sample(0, 100), sample(at(10), 400)] };
    const [f] = frameTracks(input([face], 11));
    for (let i = 0; i <= 10; i++) {
      assert.deepEqual(f.rawBoxes[i], [100 + 30 * i, 100, 300 + 30 * i, 340], `frame ${i}`);
      assert.deepEqual(f.keypoints[i]![0], [160 + 30 * i, 180]);
      assert.equal(f.mouth[i]!.length, 40);
      assert.deepEqual(f.mouth[i]![0], [170 + 30 * i, 280]);
    }
  });

  it('interpolates by time on uneven frame times (variable frame rate)', () => {
    const framesMs = [0, 10, 20, 100, 110, 200];
    const face: TrackedFace = { startMs: 0, endMs: 201, seen: seenAll(0, 201), samples: [sample(0, 0), sample(200, 200)] };
    const [f] = frameTracks(input([face], 6, [], framesMs));
    assert.deepEqual(f.rawBoxes.map((b) => b![0]), framesMs);
  });

  it('null outside the face; a value on every frame of its interval, an unseen gap in it bridged', () => {
    // seen on frames 10–19 and 30–39, unseen 20–29; interval 10–40
    const samples = [10, 19, 30, 39].map((i) => sample(at(i), 100 + i));
    const face: TrackedFace = { startMs: at(10), endMs: at(40), seen: [{ startMs: at(10), endMs: at(20) }, { startMs: at(30), endMs: at(40) }], samples };
    const [f] = frameTracks(input([face], 50));
    f.boxes.forEach((b, i) => {
      const inside = i >= 10 && i < 40;
      assert.equal(b !== null, inside, `frame ${i} box`);
      assert.equal(f.rawBoxes[i] !== null, inside, `frame ${i} raw box`);
      assert.equal(f.keypoints[i] !== null, inside, `frame ${i} keypoints`);
      if (inside) assert.equal(f.keypoints[i]!.length, 5);
    });
    // the gap is bridged on the line between its two sides
    assert.equal(f.rawBoxes[25]![0], Math.round(100 + 19 + ((30 - 19) * (25 - 19)) / 11));
  });

  it('outside its interval a face has values only where it was seen (a rejected face: seen spans alone)', () => {
    const face: TrackedFace = { startMs: 0, endMs: 0, seen: [{ startMs: at(5), endMs: at(15) }], samples: [sample(at(5), 100), sample(at(14), 100)] };
    const [f] = frameTracks(input([face], 20));
    assert.deepEqual(f.boxes.map((b, i) => (b ? i : -1)).filter((i) => i >= 0), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('never carries a value across a cut: each side holds its own shot, raw and smoothed', () => {
    // one face joined across a cut at frame 10: left before, right after
    const samples = [sample(0, 100), sample(at(9), 100), sample(at(10), 900), sample(at(20), 900)];
    const face: TrackedFace = { startMs: 0, endMs: at(21), seen: seenAll(0, at(21)), samples };
    const [f] = frameTracks(input([face], 21, [at(10)]));
    for (let i = 0; i < 21; i++) {
      const x = i < 10 ? 100 : 900;
      assert.equal(f.rawBoxes[i]![0], x, `raw frame ${i}`);
      assert.equal(f.boxes[i]![0], x, `smoothed frame ${i}`);
    }
    // a cut between two analysed frames: frames before it hold the earlier one, from it the later one
    const sparse: TrackedFace = { startMs: 0, endMs: at(21), seen: seenAll(0, at(21)), samples: [sample(0, 100), sample(at(20), 900)] };
    const [g] = frameTracks(input([sparse], 21, [at(7)]));
    assert.deepEqual(g.rawBoxes.map((b) => b![0]), Array.from({ length: 21 }, (_, i) => (i < 7 ? 100 : 900)));
  });

  it('an interval bridging a shot without the face holds the nearest analysed frame', () => {
    // seen in shot 0 (frames 0–9) and shot 2 (frames 15–29); shot 1 (10–14) has no sample of it
    const face: TrackedFace = { startMs: 0, endMs: at(30), seen: [{ startMs: 0, endMs: at(10) }, { startMs: at(15), endMs: at(30) }], samples: [sample(0, 100), sample(at(9), 100), sample(at(15), 500), sample(at(29), 500)] };
    const [f] = frameTracks(input([face], 30, [at(10), at(15)]));
    assert.deepEqual(f.rawBoxes.slice(10, 15).map((b) => b![0]), [100, 100, 100, 500, 500]);
    assert.ok(f.boxes.every((b) => b !== null));
  });

  it('smoothing does not lag: steady motion and a turn are followed, a symmetric bump peaks on its frame', () => {
    const n = 90;
    // steady motion: 7 px a frame
    const steady: TrackedFace = { startMs: 0, endMs: at(n), seen: seenAll(0, at(n)), samples: framesOf(n).map((t, i) => sample(t, 100 + 7 * i)) };
    // a bump: out and back, peak at frame 45
    const bumpX = (i: number) => 300 + 120 * Math.exp(-(((i - 45) / 8) ** 2));
    const bump: TrackedFace = { startMs: 0, endMs: at(n), seen: seenAll(0, at(n)), samples: framesOf(n).map((t, i) => sample(t, bumpX(i))) };
    const [s, b] = frameTracks(input([steady, bump], n));
    s.boxes.forEach((box, i) => assert.ok(Math.abs(box![0] - (100 + 7 * i)) <= 1, `steady frame ${i}: ${box![0]}`));
    const peak = (boxes: (BoxCorners | null)[]) => boxes.reduce((best, box, i) => (box![0] > boxes[best]![0] ? i : best), 0);
    assert.equal(peak(b.boxes), 45, 'the smoothed bump peaks where the face did');
    // a quadratic fit keeps most of a quick 0.5 s move
    assert.ok(b.boxes[45]![0] - 300 >= 0.85 * 120, `peak kept: ${b.boxes[45]![0]}`);
  });

  it('smoothing takes out frame-to-frame jitter of a still face', () => {
    const n = 120;
    let seed = 7;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 12; // ±6 px
    const samples = framesOf(n).map((t) => sample(t, 500 + noise(), 200 + noise()));
    const [f] = frameTracks(input([{ startMs: 0, endMs: at(n), seen: seenAll(0, at(n)), samples }], n));
    const motion = (boxes: (BoxCorners | null)[]) => {
      const m: number[] = [];
      for (let i = 1; i < n; i++) m.push(Math.hypot(centreX(boxes[i]!) - centreX(boxes[i - 1]!), (boxes[i]![1] + boxes[i]![3] - boxes[i - 1]![1] - boxes[i - 1]![3]) / 2));
      return m.sort((a, b) => a - b)[m.length >> 1];
    };
    const raw = motion(f.rawBoxes), smooth = motion(f.boxes);
    assert.ok(raw >= 4, `raw jitter ${raw}`);
    assert.ok(smooth <= raw / 4, `smoothed ${smooth} vs raw ${raw}`);
  });

  it('keeps every box inside the frame, raw and smoothed', () => {
    const samples = [sample(0, -80, -50), sample(at(10), 1200, 600)];
    const [f] = frameTracks(input([{ startMs: 0, endMs: at(11), seen: seenAll(0, at(11)), samples }], 11));
    for (const b of [...f.boxes, ...f.rawBoxes]) {
      assert.ok(b![0] >= 0 && b![1] >= 0 && b![2] <= 1280 && b![3] <= 720 && b![0] < b![2] && b![1] < b![3], JSON.stringify(b));
    }
    assert.deepEqual(f.rawBoxes[0], [0, 0, 120, 190]);
    assert.deepEqual(f.rawBoxes[10], [1200, 600, 1280, 720]);
  });

  it('a lip contour is carried only between measured ones: none measured gives mouth null', () => {
    const face: TrackedFace = { startMs: 0, endMs: at(5), seen: seenAll(0, at(5)), samples: [sample(0, 100, 100, 0), sample(at(4), 100, 100, 0)] };
    const [f] = frameTracks(input([face], 5));
    assert.deepEqual(f.mouth, [null, null, null, null, null]);
    assert.ok(f.keypoints.every((k) => k !== null));
  });
});

describe('tracks document (tracks-document.ts)', () => {
  it('has the issue\'s shape: video with frame_count, frames_ms, faces with face_id and person_id, rejected faces', () => {
    const n = 60;
    const track = (from: number, to: number) => ({ spans: [{ start_time: at(from), end_time: at(to), state: 'usable' as const }], samples: [] });
    const summary: TracksSummary = {
      video: { duration_ms: 2000, width: 1280, height: 720, fps: 30, format: 'mp4' },
      faces: [{ face_id: '0', person_id: 'person_0', start_time: at(0), end_time: at(50), track: track(0, 50) }],
      rejected_faces: [{ reason: 'too_short', person_id: 'person_1', start_time: at(50), end_time: at(60), track: track(50, 60) }],
    };
    const json = (s: FaceSample) => ({ t: s.timeMs, box: s.box, keypoints: s.keypoints, lips: s.lips });
    const doc = tracksDocument(summary, {
      frames_ms: framesOf(n),
      cuts_ms: [at(50)],
      faces: [[sample(0, 100), sample(at(49), 130)].map(json)],
      rejected_faces: [[sample(at(50), 700), sample(at(59), 700)].map(json)],
    });
    assert.deepEqual(doc.video, { width: 1280, height: 720, fps: 30, frame_count: 60, duration_ms: 2000 });
    assert.equal(doc.frames_ms.length, n);
    const [f] = doc.faces;
    assert.deepEqual(Object.keys(f), ['face_id', 'person_id', 'start_time', 'end_time', 'boxes', 'raw_boxes', 'keypoints', 'mouth']);
    assert.equal(f.boxes.length, n);
    assert.equal(f.boxes.filter(Boolean).length, 50);
    assert.deepEqual(f.boxes[0], [100, 100, 300, 340]);
    assert.equal(f.boxes[50], null);
    const [r] = doc.rejected_faces;
    assert.deepEqual([r.reason, r.person_id], ['too_short', 'person_1']);
    assert.deepEqual(r.boxes.map((b, i) => (b ? i : -1)).filter((i) => i >= 0), Array.from({ length: 10 }, (_, i) => 50 + i));
    // plain JSON
    assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
  });
});
