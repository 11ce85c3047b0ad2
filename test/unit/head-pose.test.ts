import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CANONICAL_FACE, POSE_LANDMARKS } from '../../src/vision/canonical-face.ts';
import { meshAxisPose } from '../../src/vision/face-features.ts';
import type { Point3 } from '../../src/vision/geometry.ts';
import { headPose } from '../../src/vision/head-pose.ts';

const RAD = Math.PI / 180;

/** Turns a face by yaw, pitch, roll (degrees; image axes: x right, y down, z away): roll first, then pitch, then yaw. */
function turn([x, y, z]: readonly number[], yaw: number, pitch: number, roll: number): Point3 {
  const [cr, sr] = [Math.cos(roll * RAD), Math.sin(roll * RAD)];
  [x, y] = [cr * x - sr * y, sr * x + cr * y];
  const [cp, sp] = [Math.cos(pitch * RAD), Math.sin(pitch * RAD)];
  [y, z] = [cp * y - sp * z, sp * y + cp * z];
  // yaw > 0 turns the face toward image right: its nose (z < 0) moves to +x
  const [cy, sy] = [Math.cos(yaw * RAD), Math.sin(yaw * RAD)];
  [x, z] = [cy * x - sy * z, sy * x + cy * z];
  return [x, y, z];
}

/** A 468-point mesh holding `shape` at the pose landmarks, turned, scaled to pixels and placed in an image. */
function mesh(shape: readonly (readonly number[])[], yaw: number, pitch: number, roll: number, extra: Record<number, readonly number[]> = {}): Point3[] {
  const points: Point3[] = Array.from({ length: 468 }, () => [0, 0, 0]);
  const place = (i: number, p: readonly number[]) => {
    const [x, y, z] = turn(p, yaw, pitch, roll);
    points[i] = [320 + 60 * x, 200 + 60 * y, 60 * z];
  };
  POSE_LANDMARKS.forEach((l, i) => place(l, shape[i]));
  for (const [l, p] of Object.entries(extra)) place(Number(l), p);
  return points;
}

/** Deterministic noise in [-1, 1]. */
function noise(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 1073741824) - 1;
}

const POSES = [-50, -45, -30, 0, 30, 45, 50].flatMap((yaw) => [-30, 0, 15, 30].flatMap((pitch) => [-20, 0, 20].map((roll) => [yaw, pitch, roll])));

describe('head pose: canonical face fitted to the landmarks', () => {
  it('recovers the yaw and pitch of the canonical face turned by known angles, whatever the roll', () => {
    for (const [yaw, pitch, roll] of POSES) {
      const pose = headPose(mesh(CANONICAL_FACE, yaw, pitch, roll));
      assert.ok(Math.abs(pose.yaw - yaw) < 0.01 && Math.abs(pose.pitch - pitch) < 0.01, `${yaw}/${pitch}/${roll} read ${pose.yaw}/${pose.pitch}`);
    }
  });

  it('uses only the image x,y: the mesh z may be anything', () => {
    const rand = noise(3);
    const points = mesh(CANONICAL_FACE, 50, -30, 10).map(([x, y]) => [x, y, 100 * rand()] as Point3);
    const pose = headPose(points);
    assert.ok(Math.abs(pose.yaw - 50) < 0.01 && Math.abs(pose.pitch + 30) < 0.01);
  });

  it('is within a few degrees on a face unlike the canonical one, with landmark jitter', () => {
    // a nose standing out 8% more, a 5% narrower face, some asymmetry: another person's face
    const rand = noise(7);
    const other = CANONICAL_FACE.map(([x, y, z]) => [0.95 * x + 0.03 * rand(), y + 0.03 * rand(), (z < 0 ? 1.08 * z : z) + 0.03 * rand()]);
    let worst = 0;
    for (const [yaw, pitch, roll] of POSES) {
      const points = mesh(other, yaw, pitch, roll).map(([x, y, z]) => [x + 0.6 * rand(), y + 0.6 * rand(), z] as Point3);
      const pose = headPose(points);
      worst = Math.max(worst, Math.abs(pose.yaw - yaw), Math.abs(pose.pitch - pitch));
    }
    assert.ok(worst < 4, `worst error ${worst.toFixed(2)}°`);
  });

  it('keeps the signs of the mesh-axis estimate it replaces', () => {
    // the landmarks the mesh-axis estimate reads: forehead top, chin, cheeks (canonical-like positions)
    const axes = { 10: CANONICAL_FACE[POSE_LANDMARKS.indexOf(10)], 152: [0, 2.2, 0.3], 234: [-1.5, 0.1, 1.2], 454: [1.5, 0.1, 1.2] };
    for (const [yaw, pitch] of [[30, 0], [-30, 0], [0, 20], [0, -20]]) {
      const points = mesh(CANONICAL_FACE, yaw, pitch, 0, axes);
      const before = meshAxisPose(points), now = headPose(points);
      if (yaw) assert.equal(Math.sign(now.yaw), Math.sign(before.yaw), `yaw ${yaw}`);
      if (pitch) assert.equal(Math.sign(now.pitch), Math.sign(before.pitch), `pitch ${pitch}`);
      assert.ok(Math.abs(now.yaw - yaw) < 0.01 && Math.abs(now.pitch - pitch) < 0.01);
    }
  });

  it('reads a face looking straight at the camera as 0, 0', () => {
    const pose = headPose(mesh(CANONICAL_FACE, 0, 0, 0));
    assert.ok(Math.abs(pose.yaw) < 1e-9 && Math.abs(pose.pitch) < 1e-9);
  });
});
