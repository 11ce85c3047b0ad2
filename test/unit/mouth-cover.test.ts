import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { headPose } from '../../src/vision/head-pose.ts';
import { meshCropFor, type FaceLandmarks } from '../../src/vision/face-mesh.ts';
import type { Point3 } from '../../src/vision/geometry.ts';
import type { RgbImage } from '../../src/vision/image.ts';
import { loadFaceModels } from '../../src/vision/models.ts';
import { mouthCover } from '../../src/vision/mouth-cover.ts';
import { ffmpeg, sampleImage } from '../helpers/make-video.ts';

/** A demo photo as the pipeline analyses it: `width` px wide, RGB. */
async function photo(n: 1 | 2 | 3 | 4 | 5 | 6, width: number): Promise<RgbImage> {
  const probe = await ffmpeg(['-i', sampleImage(n), '-vf', `scale=${width}:-2`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
  return { width, height: probe.length / 3 / width, data: new Uint8Array(probe) };
}

/** Faces found by the real detector and mesh, with head pose within the usable limits. */
async function frontalFaces(img: RgbImage): Promise<FaceLandmarks[]> {
  const { detector, mesh } = await loadFaceModels();
  const found = await detector.detect(img);
  const meshes = await mesh.run(img, found.map((d) => meshCropFor(d.box)));
  return meshes.filter((m) => {
    const { yaw, pitch } = headPose(m.points);
    return m.confidence >= 0.5 && Math.abs(yaw) <= 45 && Math.abs(pitch) <= 30;
  });
}

/** A copy of `img` with a flat skin-coloured rectangle painted over [x0, x1) × [y0, y1). */
function withPatch(img: RgbImage, x0: number, y0: number, x1: number, y1: number): RgbImage {
  const data = Uint8Array.from(img.data);
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(img.height, Math.ceil(y1)); y++) {
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(img.width, Math.ceil(x1)); x++) data.set([176, 128, 96], (y * img.width + x) * 3);
  }
  return { ...img, data };
}

const LEFT_CORNER = 61, RIGHT_CORNER = 291, UPPER_LIP = 0, LOWER_LIP = 17, NOSE_TIP = 1, CHIN = 152, FOREHEAD = 10;

describe('mouthCover: is the mouth covered, judged from the picture where the mesh put the lips', () => {
  let photos: { name: string; img: RgbImage; faces: FaceLandmarks[] }[];

  before(async () => {
    photos = [];
    for (const n of [1, 2, 3, 4, 5, 6] as const) {
      // 640 px wide: the analysis size of a landscape video; the faces are then about 30–110 px
      const img = await photo(n, 640);
      photos.push({ name: `sample${n}`, img, faces: await frontalFaces(img) });
    }
  });

  it('no uncovered face is flagged: smiles, teeth, beards, lipstick, turned heads and small faces', (t) => {
    let count = 0, highest = 0;
    for (const { name, img, faces } of photos) {
      for (const f of faces) {
        const m = mouthCover(img, f.points);
        assert.equal(m.hidden, false, `${name}: face at ${Math.round(f.box.x)},${Math.round(f.box.y)} flagged (score ${m.score})`);
        highest = Math.max(highest, m.score);
        count++;
      }
    }
    t.diagnostic(`${count} frontal faces, highest score ${highest.toFixed(2)}`);
    assert.ok(count >= 10, `the demo photos hold at least 10 frontal faces (found ${count})`);
  });

  it('a flat patch over the mouth (lips to chin, as a hand or a card) is flagged on every face', () => {
    for (const { name, img, faces } of photos) {
      for (const f of faces) {
        const p = f.points;
        const mouthW = p[RIGHT_CORNER][0] - p[LEFT_CORNER][0];
        const covered = withPatch(img, p[LEFT_CORNER][0] - 0.3 * mouthW, (p[NOSE_TIP][1] + p[UPPER_LIP][1]) / 2, p[RIGHT_CORNER][0] + 0.3 * mouthW, p[CHIN][1]);
        const m = mouthCover(covered, p);
        assert.equal(m.hidden, true, `${name}: covered face at ${Math.round(f.box.x)},${Math.round(f.box.y)} not flagged (score ${m.score})`);
        assert.ok(m.score > 0.5, `${name}: most of a fully covered mouth region is featureless, got ${m.score}`);
      }
    }
  });

  it('a patch over the lower lip and below it (a microphone held under the lip) is flagged', () => {
    for (const { name, img, faces } of photos) {
      for (const f of faces) {
        const p = f.points;
        const mouthW = p[RIGHT_CORNER][0] - p[LEFT_CORNER][0];
        const lipMid = (p[UPPER_LIP][1] + p[LOWER_LIP][1]) / 2;
        const lowerHalf = withPatch(img, p[LEFT_CORNER][0] - 0.3 * mouthW, (lipMid + p[LOWER_LIP][1]) / 2, p[RIGHT_CORNER][0] + 0.3 * mouthW, p[CHIN][1]);
        const m = mouthCover(lowerHalf, p);
        assert.equal(m.hidden, true, `${name}: face at ${Math.round(f.box.x)},${Math.round(f.box.y)} (score ${m.score})`);
      }
    }
  });

  it('a patch elsewhere on the face (the forehead) is not a hidden mouth', () => {
    for (const { name, img, faces } of photos) {
      for (const f of faces) {
        const p = f.points;
        const forehead = withPatch(img, f.box.x, p[FOREHEAD][1] - 0.1 * f.box.height, f.box.x + f.box.width, p[FOREHEAD][1] + 0.15 * f.box.height);
        assert.equal(mouthCover(forehead, p).hidden, false, `${name}: face at ${Math.round(f.box.x)},${Math.round(f.box.y)}`);
      }
    }
  });

  it('small faces (the photos at 320 px wide: faces of about 15–55 px) are not flagged', async () => {
    for (const n of [1, 3, 5] as const) {
      const img = await photo(n, 320);
      for (const f of await frontalFaces(img)) assert.equal(mouthCover(img, f.points).hidden, false, `sample${n} at 320 px: face at ${Math.round(f.box.x)},${Math.round(f.box.y)}`);
    }
  });

  it('degenerate landmarks (both mouth corners on one point) give no verdict', () => {
    const img: RgbImage = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
    const points: Point3[] = Array.from({ length: 468 }, () => [4, 4, 0]);
    assert.deepEqual(mouthCover(img, points), { hidden: false, score: 0 });
  });
});
