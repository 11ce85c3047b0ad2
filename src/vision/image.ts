import { tf } from './tf-runtime.js';
import type { Box } from './geometry.js';

/** An RGB24 image in memory (a decoded frame at analysis size). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

let scratch = new Float32Array(0);

/** The image as a float32 [1, h, w, 3] tensor with values 0..255. Caller disposes. */
export function imageTensor(img: RgbImage): tf.Tensor4D {
  // tf copies the values into the backend, so one scratch array serves every frame (less GC)
  if (scratch.length !== img.data.length) scratch = new Float32Array(img.data.length);
  scratch.set(img.data);
  return tf.tensor4d(scratch, [1, img.height, img.width, 3], 'float32');
}

/** Crops boxes (pixels, may reach outside the image: outside is black) and resizes each to size×size. */
export function cropSquares(image: tf.Tensor4D, boxes: readonly Box[], size: number): tf.Tensor4D {
  const [, h, w] = image.shape;
  const norm = boxes.map((b) => [b.y / h, b.x / w, (b.y + b.height) / h, (b.x + b.width) / w]);
  return tf.image.cropAndResize(image, norm, boxes.map(() => 0), [size, size], 'bilinear', 0);
}

/**
 * Planar YUV 4:2:0 (as ffmpeg's yuv420p, BT.601 limited range) to packed RGB. Integer maths
 * with 8-bit fixed-point coefficients.
 */
export function yuv420pToRgb(yuv: Uint8Array, width: number, height: number, out: Uint8Array = new Uint8Array(width * height * 3)): RgbImage {
  const uOff = width * height, vOff = uOff + (width * height) / 4, cw = width / 2;
  for (let y = 0; y < height; y++) {
    const row = y * width, crow = (y >> 1) * cw;
    for (let x = 0; x < width; x++) {
      const c = 298 * (yuv[row + x] - 16);
      const d = yuv[uOff + crow + (x >> 1)] - 128;
      const e = yuv[vOff + crow + (x >> 1)] - 128;
      const o = (row + x) * 3;
      out[o] = clamp8((c + 409 * e + 128) >> 8);
      out[o + 1] = clamp8((c - 100 * d - 208 * e + 128) >> 8);
      out[o + 2] = clamp8((c + 516 * d + 128) >> 8);
    }
  }
  return { width, height, data: out };
}

const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
