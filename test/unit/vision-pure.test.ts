import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameRing } from '../../src/pipeline/frame-ring.ts';
import { meshAxisPose, mouthInFrame, sharpness } from '../../src/vision/face-features.ts';
import { iou, sameFace, squareAround, squareTiles } from '../../src/vision/geometry.ts';
import { LazyRgbImage, yuv420pToRgb } from '../../src/vision/image.ts';
import { CutDetector } from '../../src/vision/scene-cut.ts';
import type { Point3 } from '../../src/vision/geometry.ts';

describe('geometry', () => {
  it('iou, squares and tiles', () => {
    assert.equal(iou({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 }), 50 / 150);
    assert.deepEqual(squareAround({ x: 10, y: 10, width: 20, height: 10 }, 1.5), { x: 5, y: 0, width: 30, height: 30 });
    assert.deepEqual(squareTiles(640, 360), [{ x: 0, y: 0, width: 360, height: 360 }, { x: 280, y: 0, width: 360, height: 360 }]);
    assert.deepEqual(squareTiles(360, 640).map((t) => t.y), [0, 280]);
    assert.deepEqual(squareTiles(500, 480), []);
  });

  it('sameFace: overlapping boxes, or small boxes a few pixels apart; never neighbours', () => {
    assert.ok(sameFace({ x: 0, y: 0, width: 100, height: 100 }, { x: 20, y: 10, width: 100, height: 100 }));
    assert.ok(sameFace({ x: 468, y: 19, width: 25, height: 32 }, { x: 464, y: 33, width: 26, height: 31 }));
    assert.ok(!sameFace({ x: 0, y: 0, width: 100, height: 100 }, { x: 120, y: 0, width: 100, height: 100 }));
  });
});

describe('face features', () => {
  // a flat frontal "mesh": only the landmarks the features read matter
  const mesh = (yawDeg: number, pitchDeg: number): Point3[] => {
    const pts: Point3[] = Array.from({ length: 468 }, () => [100, 100, 0] as Point3);
    const yaw = (yawDeg * Math.PI) / 180, pitch = (pitchDeg * Math.PI) / 180;
    pts[234] = [100 - 50 * Math.cos(yaw), 100, -50 * Math.sin(yaw)];
    pts[454] = [100 + 50 * Math.cos(yaw), 100, 50 * Math.sin(yaw)];
    pts[10] = [100, 100 - 60 * Math.cos(pitch), -60 * Math.sin(pitch)];
    pts[152] = [100, 100 + 60 * Math.cos(pitch), 60 * Math.sin(pitch)];
    return pts;
  };

  it('head pose from the 3D landmarks', () => {
    const p = meshAxisPose(mesh(30, -20));
    assert.ok(Math.abs(p.yaw - 30) < 0.01 && Math.abs(p.pitch + 20) < 0.01, JSON.stringify(p));
    assert.deepEqual(meshAxisPose(mesh(0, 0)), { yaw: 0, pitch: 0 });
  });

  it('mouth inside the frame', () => {
    const pts = mesh(0, 0);
    assert.ok(mouthInFrame(pts, 200, 200));
    pts[17] = [100, 230, 0]; // lower lip below the frame
    assert.ok(!mouthInFrame(pts, 200, 200));
  });

  it('sharpness: a checkerboard is sharp, a flat face is not', () => {
    const w = 128, h = 128;
    const board = new Uint8Array(w * h * 3).map((_, i) => ((Math.floor(i / 3) % w >> 2) + (Math.floor(i / 3 / w) >> 2)) % 2 ? 255 : 0);
    const flat = new Uint8Array(w * h * 3).fill(128);
    const box = { x: 0, y: 0, width: 128, height: 128 };
    assert.ok(sharpness({ width: w, height: h, data: board }, box) > 1000);
    assert.equal(sharpness({ width: w, height: h, data: flat }, box), 0);
  });
});

describe('frames', () => {
  it('yuv420p to RGB: gray, red, and video-range black/white', () => {
    const yuv = (y: number, u: number, v: number) => new Uint8Array([y, y, y, y, u, v]);
    assert.deepEqual([...yuv420pToRgb(yuv(126, 128, 128), 2, 2).data.slice(0, 3)], [128, 128, 128]);
    assert.deepEqual([...yuv420pToRgb(yuv(16, 128, 128), 2, 2).data.slice(0, 3)], [0, 0, 0]);
    assert.deepEqual([...yuv420pToRgb(yuv(235, 128, 128), 2, 2).data.slice(0, 3)], [255, 255, 255]);
    const [r, g, b] = yuv420pToRgb(yuv(81, 90, 240), 2, 2).data;
    assert.ok(r > 240 && g < 10 && b < 10, `red came out ${r},${g},${b}`);
  });

  it('the ring keeps the last frames and says when one is gone', () => {
    const ring = new FrameRing(3);
    for (let i = 0; i < 5; i++) ring.push(i, i * 33, false, 2, 2, new Uint8Array([i * 10 + 16, i * 10 + 16, i * 10 + 16, i * 10 + 16, 128, 128]));
    assert.equal(ring.get(4).timeMs, 132);
    assert.ok(ring.has(2) && !ring.has(1));
    assert.throws(() => ring.get(1), /no longer buffered/);
    assert.equal(ring.rgb(3).ready().data[0], (30 * 298 + 128) >> 8);
  });

  it('the ring hands a frame it pushes out back to the decoder, and forgets its RGB', () => {
    const ring = new FrameRing(2);
    const released: number[] = [];
    const push = (i: number) => ring.push(i, i * 33, false, 2, 2, new Uint8Array([16, 16, 16, 16, 128, 128]), () => released.push(i));
    push(0);
    push(1);
    ring.rgb(0).ready();
    assert.deepEqual(released, []);
    push(2);
    assert.deepEqual(released, [0]);
    assert.throws(() => ring.rgb(0), /no longer buffered/, 'the RGB of a frame pushed out is not served from the cache');
    push(3);
    assert.deepEqual(released, [0, 1]);
  });

  it('a frame whose buffer went back to the decoder is not read as black', () => {
    const yuv = new Uint8Array(6);
    const image = new LazyRgbImage(yuv, 2, 2);
    structuredClone(yuv.buffer, { transfer: [yuv.buffer] });
    assert.throws(() => image.ready(), /released/);
  });

  it('a lazily converted frame converts the rows asked for, as the whole conversion does', () => {
    const w = 8, h = 10;
    const yuv = Uint8Array.from({ length: (w * h * 3) / 2 }, (_, i) => 16 + ((i * 37) % 220));
    const whole = yuv420pToRgb(yuv, w, h).data;
    const lazy = new LazyRgbImage(yuv, w, h);
    lazy.ready({ x: 2, y: 4, width: 3, height: 2 });
    const row = (data: Uint8Array, y: number) => [...data.subarray(y * w * 3, (y + 1) * w * 3)];
    for (let y = 3; y < 8; y++) assert.deepEqual(row(lazy.data, y), row(whole, y), `row ${y}`);
    assert.ok(row(lazy.data, 0).every((v) => v === 0) && row(lazy.data, 9).every((v) => v === 0), 'rows far from the box are left');
    assert.deepEqual([...lazy.ready().data], [...whole]);
  });

  it('hard cuts stand out from motion and noise', () => {
    const plane = (f: (x: number, y: number) => number) => {
      const data = new Uint8Array(64 * 36);
      for (let y = 0; y < 36; y++) for (let x = 0; x < 64; x++) data[y * 64 + x] = f(x, y);
      return { width: 64, height: 36, data };
    };
    const cuts = new CutDetector();
    const flags: boolean[] = [];
    for (let i = 0; i < 20; i++) flags.push(cuts.push(plane((x, y) => 60 + ((x + i) % 16) * 4 + (y % 3))));
    for (let i = 0; i < 5; i++) flags.push(cuts.push(plane((x) => 200 - x)));
    assert.deepEqual(flags.map((f, i) => (f ? i : -1)).filter((i) => i >= 0), [20]);
  });
});
