import { tf } from './tf-runtime.js';
import type { Box } from './geometry.js';

/** An RGB24 image in memory (a decoded frame at analysis size). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The image as a float32 [1, h, w, 3] tensor with values 0..255. Caller disposes. */
export function imageTensor(img: RgbImage): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(img.data), [1, img.height, img.width, 3], 'float32');
}

/** Crops boxes (pixels, may reach outside the image: outside is black) and resizes each to size×size. */
export function cropSquares(image: tf.Tensor4D, boxes: readonly Box[], size: number): tf.Tensor4D {
  const [, h, w] = image.shape;
  const norm = boxes.map((b) => [b.y / h, b.x / w, (b.y + b.height) / h, (b.x + b.width) / w]);
  return tf.image.cropAndResize(image, norm, boxes.map(() => 0), [size, size], 'bilinear', 0);
}
