import type { Box, Point3 } from './geometry.js';
import type { RgbImage } from './image.js';

// MediaPipe FaceMesh landmark indices
const FOREHEAD = 10;
const CHIN = 152;
const CHEEK_RIGHT = 234; // image left for a face looking at the camera
const CHEEK_LEFT = 454;
/** Outer lip contour: corners, upper and lower lip edges. */
const MOUTH = [61, 291, 0, 17, 37, 267, 84, 314, 13, 14, 78, 308];

const deg = (rad: number) => (rad * 180) / Math.PI;

/**
 * The earlier head pose: yaw and pitch in degrees from two axes of the 3D mesh (cheek to cheek
 * turns out of the image plane with yaw, forehead to chin with pitch). It under-reads yaw near
 * 45°; the engine uses head-pose.ts. Kept only to compare against (scripts/head-pose-check.ts).
 */
export function meshAxisPose(points: readonly Point3[]): { yaw: number; pitch: number } {
  const [rx, , rz] = points[CHEEK_RIGHT];
  const [lx, , lz] = points[CHEEK_LEFT];
  const [, ty, tz] = points[FOREHEAD];
  const [, cy, cz] = points[CHIN];
  return {
    yaw: deg(Math.atan2(lz - rz, lx - rx)),
    pitch: deg(Math.atan2(cz - tz, cy - ty)),
  };
}

export function mouthInFrame(points: readonly Point3[], width: number, height: number): boolean {
  return MOUTH.every((i) => {
    const [x, y] = points[i];
    return x >= 0 && y >= 0 && x < width && y < height;
  });
}

const SHARP_SIZE = 64;

/** Variance of the 4-neighbour Laplacian of the face's luma, resampled to 64×64 (nearest). */
export function sharpness(img: RgbImage, box: Box): number {
  const luma = new Float32Array(SHARP_SIZE * SHARP_SIZE);
  for (let j = 0; j < SHARP_SIZE; j++) {
    const y = Math.min(img.height - 1, Math.max(0, Math.floor(box.y + ((j + 0.5) * box.height) / SHARP_SIZE)));
    for (let i = 0; i < SHARP_SIZE; i++) {
      const x = Math.min(img.width - 1, Math.max(0, Math.floor(box.x + ((i + 0.5) * box.width) / SHARP_SIZE)));
      const o = (y * img.width + x) * 3;
      luma[j * SHARP_SIZE + i] = 0.299 * img.data[o] + 0.587 * img.data[o + 1] + 0.114 * img.data[o + 2];
    }
  }
  let sum = 0, sumSq = 0, n = 0;
  for (let j = 1; j < SHARP_SIZE - 1; j++) {
    for (let i = 1; i < SHARP_SIZE - 1; i++) {
      const c = j * SHARP_SIZE + i;
      const lap = luma[c - 1] + luma[c + 1] + luma[c - SHARP_SIZE] + luma[c + SHARP_SIZE] - 4 * luma[c];
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}
