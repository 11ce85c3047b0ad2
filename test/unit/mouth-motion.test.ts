import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Point3 } from '../../src/vision/geometry.ts';
import { mouthMotion, type LumaImage } from '../../src/vision/mouth-motion.ts';

const W = 320, H = 320;

/** A textured face-sized picture (fixed noise, so any shift shows), with a dark mouth opening `open` pixels tall at (160, 220). */
function frame(open: number, shift: [number, number] = [0, 0], blink = false): LumaImage {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const sx = x - shift[0], sy = y - shift[1];
      // smooth skin shading plus a finer texture (skin, stubble) at the scale the analysed frame shows
      let v = 150 + 30 * Math.sin(sx / 17) * Math.cos(sy / 23) + 12 * Math.sin(sx / 4.3 + sy / 6.1) * Math.sin(sy / 5.2 - sx / 9.7);
      // the lips: a reddish-dark band 44 px wide, and the opening between them
      const dx = (sx - 160) / 22, dy = (sy - 220) / 7;
      if (dx * dx + dy * dy <= 1) v = 95;
      const oy = (sy - 220) / Math.max(0.5, open / 2);
      if (open > 0 && dx * dx + oy * oy <= 1) v = 30;
      // the eyes, closed when blinking
      for (const ex of [120, 200]) if (Math.hypot(sx - ex, sy - 130) < 9) v = blink ? 140 : 40;
      data[y * W + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { width: W, height: H, data };
}

/** Mesh points where this picture's face is (only the ones the measure reads: mouth corners and eye corners), moved by `jitter`. */
function mesh(jitter: [number, number] = [0, 0]): Point3[] {
  const points: Point3[] = Array.from({ length: 468 }, () => [0, 0, 0]);
  const at = (i: number, x: number, y: number) => (points[i] = [x + jitter[0], y + jitter[1], 0]);
  at(61, 138, 220);
  at(291, 182, 220);
  at(33, 108, 130);
  at(133, 132, 130);
  at(362, 188, 130);
  at(263, 212, 130);
  return points;
}

test('a still picture does not move, wherever the mesh puts the mouth', () => {
  const still = frame(4);
  assert.equal(mouthMotion(still, frame(4), mesh()), 0);
  // the mesh jitters from frame to frame; the measure reads both frames at the same place
  assert.equal(mouthMotion(still, frame(4), mesh([3, -2])), 0);
});

test('a mouth that opens moves; a head that shifts a little and eyes that blink hardly do', () => {
  const opening = mouthMotion(frame(14), frame(2), mesh());
  // a head moves a pixel or two between frames at analysis size
  const headShift = Math.max(mouthMotion(frame(4, [1, 1]), frame(4), mesh()), mouthMotion(frame(4, [-2, 0]), frame(4), mesh()));
  const blink = mouthMotion(frame(4, [0, 0], true), frame(4), mesh());
  assert.ok(opening > 0.1, `opening: ${opening}`);
  assert.ok(headShift < 0.5 * opening, `head shift ${headShift} against opening ${opening}`);
  assert.equal(blink, 0, 'the eyes lie outside the mouth region');
  // a wider opening moves more
  assert.ok(mouthMotion(frame(20), frame(2), mesh()) > mouthMotion(frame(8), frame(2), mesh()));
});

test('the measure does not depend on the picture\'s brightness and contrast', () => {
  const scale = (img: LumaImage, k: number, add: number): LumaImage => ({ ...img, data: Uint8Array.from(img.data, (v) => Math.round(v * k + add)) });
  const a = mouthMotion(frame(14), frame(2), mesh());
  const b = mouthMotion(scale(frame(14), 0.6, 40), scale(frame(2), 0.6, 40), mesh());
  assert.ok(Math.abs(a - b) < 0.1 * a, `${a} vs ${b}`);
});

test('no eye distance, no measure', () => {
  const points: Point3[] = Array.from({ length: 468 }, () => [10, 10, 0]);
  assert.ok(Number.isNaN(mouthMotion(frame(4), frame(4), points)));
});
