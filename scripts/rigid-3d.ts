/** Small 3D helpers for the head-pose scripts (row-major 3×3 matrices). */
export type V3 = [number, number, number];
export type Mat3 = number[];

export function invert3(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A, -(b * i - c * h), b * f - c * e, B, a * i - c * g, -(a * f - c * d), C, -(a * h - b * g), a * e - b * d].map((v) => v / det);
}

export const apply3 = (r: Mat3, p: readonly number[]): V3 => [
  r[0] * p[0] + r[1] * p[1] + r[2] * p[2],
  r[3] * p[0] + r[4] * p[1] + r[5] * p[2],
  r[6] * p[0] + r[7] * p[1] + r[8] * p[2],
];

export function multiply3(a: Mat3, b: Mat3): Mat3 {
  const out: Mat3 = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out.push(a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j]);
  return out;
}

export const transpose3 = (m: Mat3): Mat3 => [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]];

/** Orthogonal polar factor of a non-singular 3×3 (the rotation nearest to it), by Newton iteration. */
export function nearestRotation(m: Mat3): Mat3 {
  let r = m.slice();
  for (let it = 0; it < 30; it++) r = r.map((v, k) => (v + transpose3(invert3(r))[k]) / 2);
  return r;
}

/** Rotation taking centred `shape` best onto centred `target` (Kabsch, through the polar factor). */
export function align3(shape: readonly (readonly number[])[], target: readonly (readonly number[])[]): Mat3 {
  const h = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  shape.forEach((p, i) => {
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) h[a * 3 + b] += target[i][a] * p[b];
  });
  return nearestRotation(h);
}

export function centred(pts: readonly (readonly number[])[]): V3[] {
  const c = [0, 1, 2].map((k) => pts.reduce((s, p) => s + p[k], 0) / pts.length);
  return pts.map((p) => [p[0] - c[0], p[1] - c[1], p[2] - c[2]]);
}

/**
 * The rotation that turns a face by `yaw`, `pitch`, `roll` degrees in image axes (x right, y
 * down, z away from the camera), with the signs head-pose.ts reports: yaw about the vertical,
 * then pitch about the horizontal, roll about the line of sight applied first.
 */
export function headRotation(yaw: number, pitch: number, roll: number): Mat3 {
  const r = Math.PI / 180;
  const [cy, sy] = [Math.cos(-yaw * r), Math.sin(-yaw * r)];
  const [cp, sp] = [Math.cos(pitch * r), Math.sin(pitch * r)];
  const [cr, sr] = [Math.cos(roll * r), Math.sin(roll * r)];
  const ry = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
  const rx = [1, 0, 0, 0, cp, -sp, 0, sp, cp];
  const rz = [cr, -sr, 0, sr, cr, 0, 0, 0, 1];
  return multiply3(ry, multiply3(rx, rz));
}
