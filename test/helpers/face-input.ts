import { ffmpeg, sampleImage } from './make-video.ts';
import { personOnPhoto, type PersonName } from './face-photos.ts';

/**
 * A square crop around one person's face on a demo photo, `cropFactor` face-sizes wide, resized to
 * size×size and returned as NHWC float32 RGB mapped by v·scale + offset (as the model wrappers do).
 */
export async function faceInput(person: PersonName, size: number, cropFactor: number, scale: number, offset: number): Promise<Float32Array> {
  const { sample, face } = personOnPhoto(person);
  const [x, y, w, h] = face;
  const side = Math.round(Math.max(w, h) * cropFactor);
  const x0 = Math.max(0, Math.round(x + w / 2 - side / 2)), y0 = Math.max(0, Math.round(y + h / 2 - side / 2));
  const rgb = await ffmpeg([
    '-i', sampleImage(sample),
    '-vf', `scale=1920:-2,crop=${side}:${side}:${x0}:${y0}:exact=1,scale=${size}:${size}:flags=bilinear`,
    '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-',
  ]);
  if (rgb.length !== size * size * 3) throw new Error(`faceInput: ffmpeg gave ${rgb.length} bytes, expected ${size * size * 3}`);
  return Float32Array.from(rgb, (v) => v * scale + offset);
}

/** Concatenates equal-size NHWC images into one batch. */
export function batchOf(images: Float32Array[]): Float32Array {
  const out = new Float32Array(images.reduce((n, im) => n + im.length, 0));
  let at = 0;
  for (const im of images) {
    out.set(im, at);
    at += im.length;
  }
  return out;
}
