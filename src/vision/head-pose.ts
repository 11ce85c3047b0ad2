import { CANONICAL_FACE, POSE_LANDMARKS } from './canonical-face.js';
import type { Point3 } from './geometry.js';

/** A rigid 3D face at some FaceMesh landmarks, in image axes (x right, y down, z away from the camera). */
export interface FaceShape {
  landmarks: readonly number[];
  /** x, y, z of each landmark in turn, centred. */
  coords: Float64Array;
}

export function faceShape(landmarks: readonly number[], coords: readonly (readonly number[])[]): FaceShape {
  const centre = [0, 1, 2].map((k) => coords.reduce((sum, p) => sum + p[k], 0) / coords.length);
  return { landmarks, coords: Float64Array.from(coords.flatMap((p) => [0, 1, 2].map((k) => p[k] - centre[k]))) };
}

const CANONICAL = faceShape(POSE_LANDMARKS, CANONICAL_FACE);

const rotation = new Float64Array(9);

/**
 * Head yaw and pitch in degrees (0 = facing the camera) from the 468 FaceMesh landmarks:
 * weak-perspective PnP of a canonical face (canonical-face.ts) on the image x,y of landmarks
 * that stay put (eye corners, nose, mouth corners, forehead, cheeks), the angles read from the
 * fitted rotation. The mesh's z is not used: it is the mesh's own guess of depth.
 * Signs as before: yaw > 0 when the face turns toward image right, pitch > 0 when it looks down.
 */
export function headPose(points: readonly Point3[]): { yaw: number; pitch: number } {
  fitRotation(points, CANONICAL, rotation);
  return poseAngles(rotation);
}

/**
 * The rotation (row-major 3×3 into `out`; image axes: x right, y down, z away from the camera)
 * of `shape` that best explains the landmarks' image x,y under a scaled orthographic camera:
 * the least-squares affine camera, its two rows made orthonormal symmetrically.
 */
export function fitRotation(points: readonly Point3[], shape: FaceShape, out: Float64Array): void {
  const { landmarks, coords } = shape;
  const n = landmarks.length;
  let cx = 0, cy = 0;
  for (let i = 0; i < n; i++) {
    const p = points[landmarks[i]];
    cx += p[0]; cy += p[1];
  }
  cx /= n; cy /= n;
  // normal matrix G = Σ s sᵀ (symmetric) and B = Σ [x y]ᵀ sᵀ, over the centred shape and image points
  let g00 = 0, g01 = 0, g02 = 0, g11 = 0, g12 = 0, g22 = 0;
  let a0 = 0, a1 = 0, a2 = 0, b0 = 0, b1 = 0, b2 = 0;
  for (let i = 0; i < n; i++) {
    const p = points[landmarks[i]];
    const s0 = coords[3 * i], s1 = coords[3 * i + 1], s2 = coords[3 * i + 2];
    const x = p[0] - cx, y = p[1] - cy;
    g00 += s0 * s0; g01 += s0 * s1; g02 += s0 * s2;
    g11 += s1 * s1; g12 += s1 * s2; g22 += s2 * s2;
    a0 += x * s0; a1 += x * s1; a2 += x * s2;
    b0 += y * s0; b1 += y * s1; b2 += y * s2;
  }
  // camera rows = B·G⁻¹ (G⁻¹ by cofactors; symmetric)
  const i00 = g11 * g22 - g12 * g12, i01 = g02 * g12 - g01 * g22, i02 = g01 * g12 - g02 * g11;
  const i11 = g00 * g22 - g02 * g02, i12 = g01 * g02 - g00 * g12, i22 = g00 * g11 - g01 * g01;
  let r0 = a0 * i00 + a1 * i01 + a2 * i02, r1 = a0 * i01 + a1 * i11 + a2 * i12, r2 = a0 * i02 + a1 * i12 + a2 * i22;
  let s0 = b0 * i00 + b1 * i01 + b2 * i02, s1 = b0 * i01 + b1 * i11 + b2 * i12, s2 = b0 * i02 + b1 * i12 + b2 * i22;
  // (both rows come multiplied by det G > 0, which normalising removes)
  const lr = Math.hypot(r0, r1, r2), ls = Math.hypot(s0, s1, s2);
  r0 /= lr; r1 /= lr; r2 /= lr;
  s0 /= ls; s1 /= ls; s2 /= ls;
  // nearest orthonormal pair, symmetric in the two rows: u = r+s and v = r−s are orthogonal, rows = (u ± v)/√2
  const lu = Math.hypot(r0 + s0, r1 + s1, r2 + s2) * Math.SQRT2, lv = Math.hypot(r0 - s0, r1 - s1, r2 - s2) * Math.SQRT2;
  const u0 = (r0 + s0) / lu, u1 = (r1 + s1) / lu, u2 = (r2 + s2) / lu;
  const v0 = (r0 - s0) / lv, v1 = (r1 - s1) / lv, v2 = (r2 - s2) / lv;
  out[0] = u0 + v0; out[1] = u1 + v1; out[2] = u2 + v2;
  out[3] = u0 - v0; out[4] = u1 - v1; out[5] = u2 - v2;
  out[6] = out[1] * out[5] - out[2] * out[4];
  out[7] = out[2] * out[3] - out[0] * out[5];
  out[8] = out[0] * out[4] - out[1] * out[3];
}

const deg = (rad: number) => (rad * 180) / Math.PI;

/**
 * Yaw and pitch (degrees) of the direction the face points (the canonical face's z axis in
 * camera axes) for a rotation from canonical to camera axes: roll about that direction
 * changes neither.
 */
export function poseAngles(r: ArrayLike<number>): { yaw: number; pitch: number } {
  const fx = r[2], fy = r[5], fz = r[8];
  return { yaw: deg(Math.atan2(-fx, fz)), pitch: deg(Math.atan2(-fy, Math.hypot(fx, fz))) };
}
