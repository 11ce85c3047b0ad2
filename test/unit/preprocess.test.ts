import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cropsInto, letterboxInto } from '../../src/vision/preprocess.ts';
import { tf } from '../helpers/tfjs-reference.ts';
import type { RgbImage } from '../../src/vision/image.ts';
import '@tensorflow/tfjs-backend-cpu';

// The model inputs are made in JS; they must equal what tfjs's own image ops make from the same frame.

function noiseImage(width: number, height: number, seed = 7): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('model input preprocessing', async () => {
  await tf.setBackend('cpu');
  const img = noiseImage(160, 90);
  const tensor = tf.tensor4d(Float32Array.from(img.data), [1, img.height, img.width, 3]);

  it('letterboxes the whole frame like resizeBilinear + pad', () => {
    const out = new Float32Array(64 * 64 * 3);
    const { scale } = letterboxInto(img, undefined, 64, out, { scale: 1 / 127.5, offset: -1 });
    assert.equal(scale, 64 / 160);
    const want = tf.tidy(() => tf.pad(tf.sub(tf.div(tf.image.resizeBilinear(tensor, [36, 64]), 127.5), 1), [[0, 0], [0, 28], [0, 0], [0, 0]]));
    assert.ok(maxDiff(out, want.dataSync()) < 1e-5);
  });

  it('letterboxes a region like cropAndResize + pad', () => {
    const region = { x: 70, y: 10.5, width: 80, height: 80 };
    const out = new Float32Array(48 * 48 * 3);
    letterboxInto(img, region, 48, out, { scale: 1 / 127.5, offset: -1 });
    const box = [[region.y / 90, region.x / 160, (region.y + region.height) / 90, (region.x + region.width) / 160]];
    const want = tf.tidy(() => tf.sub(tf.div(tf.image.cropAndResize(tensor, box, [0], [48, 48]), 127.5), 1));
    assert.ok(maxDiff(out, want.dataSync()) < 1e-5);
  });

  it('crops squares reaching outside the frame (black there) like cropAndResize', () => {
    const boxes = [{ x: -20, y: -10, width: 60, height: 60 }, { x: 130, y: 50, width: 50, height: 50 }];
    const out = new Float32Array(2 * 32 * 32 * 3);
    cropsInto(img, boxes, 32, out, { scale: 1 / 255, offset: 0 });
    const norm = boxes.map((b) => [b.y / 90, b.x / 160, (b.y + b.height) / 90, (b.x + b.width) / 160]);
    const want = tf.tidy(() => tf.div(tf.image.cropAndResize(tensor, norm, [0, 0], [32, 32], 'bilinear', 0), 255));
    assert.ok(maxDiff(out, want.dataSync()) < 1e-5);
    assert.equal(out[0], 0, 'outside the frame reads black');
  });
});
