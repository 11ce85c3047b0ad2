import type { Point3 } from './geometry.js';
import type { Keypoints, Point2 } from '../analysis/types.js';

// MediaPipe FaceMesh indices. The mesh's "right" is the subject's right, which is the image's left.
/** Each eye's two corners: its centre is taken halfway between them (as the embedder's alignment was measured). */
const EYE_IMAGE_LEFT = [33, 133];
const EYE_IMAGE_RIGHT = [362, 263];
const NOSE_TIP = 1;
const MOUTH_IMAGE_LEFT = 61;
const MOUTH_IMAGE_RIGHT = 291;
/** Outer lip line from the image-left corner over the upper lip and back under the lower lip. */
const LIPS_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146];
/** Inner lip line, the same way round. */
const LIPS_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95];

const mean = (points: readonly Point3[], idx: readonly number[]): Point2 => {
  let x = 0, y = 0;
  for (const i of idx) {
    x += points[i][0];
    y += points[i][1];
  }
  return [x / idx.length, y / idx.length];
};

/** The 5 alignment keypoints: left eye, right eye, nose tip, left and right mouth corner (image left/right). */
export function keypointsOf(points: readonly Point3[]): Keypoints {
  const at = (i: number): Point2 => [points[i][0], points[i][1]];
  return [mean(points, EYE_IMAGE_LEFT), mean(points, EYE_IMAGE_RIGHT), at(NOSE_TIP), at(MOUTH_IMAGE_LEFT), at(MOUTH_IMAGE_RIGHT)];
}

/** The lip contour: 20 outer points, then 20 inner ones. */
export function lipsOf(points: readonly Point3[]): Point2[] {
  return [...LIPS_OUTER, ...LIPS_INNER].map((i) => [points[i][0], points[i][1]]);
}
