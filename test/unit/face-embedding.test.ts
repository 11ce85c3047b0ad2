import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DEFAULT_ANALYSIS_CONFIG } from '../../src/analysis/config.ts';
import { cosine } from '../../src/analysis/identity.ts';
import { keypointsOf } from '../../src/vision/face-landmarks.ts';
import { applySimilarity, canonicalKeypoints, fitSimilarity, invertSimilarity, warpInto, type FaceKeypoints, type Point2 } from '../../src/vision/face-align.ts';
import { FaceEmbedder, alignmentTemplate, meanEmbedding } from '../../src/vision/face-embedding.ts';
import { meshCropFor } from '../../src/vision/face-mesh.ts';
import { loadFaceRecognitionModel } from '../../src/vision/face-recognition-model.ts';
import type { RgbImage } from '../../src/vision/image.ts';
import { loadFaceModels, type FaceModels } from '../../src/vision/models.ts';
import { faceApiDescriptors } from '../helpers/face-api-resnet-reference.ts';
import { ffmpeg, sampleImage } from '../helpers/make-video.ts';

const THRESHOLD = DEFAULT_ANALYSIS_CONFIG.samePersonSimilarity;

describe('face alignment', () => {
  test('fitSimilarity recovers a rotation, scale and shift, and its inverse undoes it', () => {
    const truth = { a: 1.3 * Math.cos(0.4), b: 1.3 * Math.sin(0.4), tx: 12, ty: -7 };
    const from: Point2[] = [[10, 20], [60, 22], [35, 50], [15, 80], [58, 79]];
    const to = from.map((p) => applySimilarity(truth, p));
    const fit = fitSimilarity(from, to);
    for (const k of ['a', 'b', 'tx', 'ty'] as const) assert.ok(Math.abs(fit[k] - truth[k]) < 1e-9, `${k}: ${fit[k]} vs ${truth[k]}`);
    const back = applySimilarity(invertSimilarity(fit), to[2]);
    assert.ok(Math.hypot(back[0] - from[2][0], back[1] - from[2][1]) < 1e-9);
  });

  test('keypoints given subject-first (eyes and mouth corners swapped) are put in the viewer-left-first order, even on a rolled head', () => {
    const upright: FaceKeypoints = [[40, 40], [80, 40], [60, 65], [45, 90], [75, 90]];
    const roll = { a: Math.cos(0.5), b: Math.sin(0.5), tx: 5, ty: 3 };
    const rolled = upright.map((p) => applySimilarity(roll, p)) as unknown as FaceKeypoints;
    const [l, r, n, ml, mr] = rolled;
    assert.deepEqual(canonicalKeypoints([r, l, n, mr, ml]), rolled);
    assert.deepEqual(canonicalKeypoints(rolled), rolled);
  });

  test('warpInto with a pure shift copies pixels; outside the image is black', () => {
    const img: RgbImage = { width: 4, height: 3, data: Uint8Array.from({ length: 36 }, (_, i) => i * 7) };
    const out = new Float32Array(2 * 2 * 3);
    warpInto(img, { a: 1, b: 0, tx: 1, ty: 1 }, 2, out, 0, { scale: 1, offset: 0 });
    // output (0,0) reads source pixel (1,1)
    assert.deepEqual([...out.subarray(0, 3)], [...img.data.subarray((1 * 4 + 1) * 3, (1 * 4 + 1) * 3 + 3)]);
    warpInto(img, { a: 1, b: 0, tx: 10, ty: 10 }, 2, out, 0, { scale: 1, offset: 0 });
    assert.ok(out.every((v) => v === 0));
  });

  test('the template puts the eyes level and the mouth below the nose, inside the 150 px chip', () => {
    const [le, re, nose, lm, rm] = alignmentTemplate();
    assert.equal(le[1], re[1]);
    assert.ok(le[0] < re[0] && lm[0] < rm[0] && nose[1] > le[1] && lm[1] > nose[1]);
    for (const [x, y] of [le, re, nose, lm, rm]) assert.ok(x > 0 && x < 150 && y > 0 && y < 150);
  });
});

test('the ONNX graph built from face-api recognition weights computes what face-api computes', async () => {
  const batch = 2;
  const input = new Float32Array(batch * 150 * 150 * 3);
  let seed = 7;
  for (let i = 0; i < input.length; i++) input[i] = (seed = (seed * 1103515245 + 12345) % 2147483648) % 256;
  const reference = await faceApiDescriptors(input, batch);
  const model = await loadFaceRecognitionModel({ threads: 1 });
  const [out] = await model.run(input, [batch, 150, 150, 3]);
  await model.release();
  assert.equal(out.length, reference.length);
  let worst = 0, scale = 0;
  for (let i = 0; i < out.length; i++) {
    worst = Math.max(worst, Math.abs(out[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  assert.ok(worst < 1e-4 * Math.max(1, scale), `largest difference ${worst} (values up to ${scale})`);
});

/** A demo photo at `width` px wide, shifted by (dx, dy) px (cropped at the top left), mirrored if asked, as RGB. */
async function photo(n: 1 | 2 | 3 | 4 | 5 | 6, width: number, dx = 0, dy = 0, mirrored = false): Promise<RgbImage> {
  const filters = `scale=${width}:-2,crop=iw-${dx}:ih-${dy}:${dx}:${dy}${mirrored ? ',hflip' : ''}`;
  const info = await ffmpeg(['-i', sampleImage(n), '-vf', filters, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-frames:v', '1', 'pipe:1']);
  // the height follows from the byte count
  const w = width - dx;
  return { width: w, height: info.length / 3 / w, data: new Uint8Array(info) };
}

interface PhotoFace {
  keypoints: FaceKeypoints;
  centre: Point2;
}

/** The frontal faces of a photo with their keypoints, from the engine's detector and mesh, left to right. */
async function facesOn(models: FaceModels, img: RgbImage): Promise<PhotoFace[]> {
  const faces: PhotoFace[] = [];
  for (const d of await models.detector.detect(img)) {
    let [m] = await models.mesh.run(img, [meshCropFor(d.box)]);
    [m] = await models.mesh.run(img, [meshCropFor(m.box)]);
    if (m.confidence < 0.5) continue;
    const k = keypointsOf(m.points);
    faces.push({ keypoints: k, centre: [m.box.x + m.box.width / 2, m.box.y + m.box.height / 2] });
  }
  return faces.sort((a, b) => a.centre[0] - b.centre[0]);
}

describe('face-api ResNet embeddings on photos', () => {
  let models: FaceModels;
  before(async () => {
    models = await loadFaceModels();
  });

  // sample6: four young women side by side; sample3: three more
  for (const n of [6, 3] as const) {
    test(`sample${n}: each person matches herself shifted and rescaled, and no one else`, async () => {
      const base = await photo(n, 1280);
      const faces = await facesOn(models, base);
      assert.ok(faces.length >= 3, `found ${faces.length} faces`);
      const vectors = await models.embedder.embedAligned(base, faces.map((f) => f.keypoints));
      assert.ok(vectors.every((v) => v.length === 128 && Math.abs(cosine(v, v) - 1) < 1e-5));

      for (let i = 0; i < vectors.length; i++) {
        for (let j = i + 1; j < vectors.length; j++) {
          const s = cosine(vectors[i], vectors[j]);
          assert.ok(s < THRESHOLD, `people ${i} and ${j} on sample${n}: similarity ${s.toFixed(3)} ≥ ${THRESHOLD}`);
        }
      }

      // shifted, rescaled (down to faces of ~60 px), mirrored: the same person each time
      const variants = [
        { width: 1280, dx: 9, dy: 5, mirrored: false },
        { width: 960, dx: 0, dy: 0, mirrored: false },
        { width: 1600, dx: 3, dy: 11, mirrored: false },
        { width: 640, dx: 0, dy: 0, mirrored: false },
        { width: 1280, dx: 0, dy: 0, mirrored: true },
      ];
      for (const variant of variants) {
        const img = await photo(n, variant.width, variant.dx, variant.dy, variant.mirrored);
        const k = variant.width / 1280;
        const again = await facesOn(models, img);
        for (let i = 0; i < faces.length; i++) {
          const x = faces[i].centre[0] * k - variant.dx;
          const [cx, cy] = [variant.mirrored ? img.width - x : x, faces[i].centre[1] * k - variant.dy];
          const match = again.find((f) => Math.hypot(f.centre[0] - cx, f.centre[1] - cy) < 20 * k);
          assert.ok(match, `person ${i} not found again at ${JSON.stringify(variant)}`);
          const [v] = await models.embedder.embedAligned(img, [match.keypoints]);
          const s = cosine(vectors[i], v);
          assert.ok(s >= THRESHOLD, `person ${i} on sample${n} at ${JSON.stringify(variant)}: similarity ${s.toFixed(3)} < ${THRESHOLD}`);
          const best = vectors.reduce((b, u, j) => (cosine(u, v) > cosine(vectors[b], v) ? j : b), 0);
          assert.equal(best, i, `person ${i} at ${JSON.stringify(variant)} is closest to person ${best}`);
        }
      }
    });
  }

  test('the mean of several samples stays a unit vector near each of them', async () => {
    const img = await photo(6, 1280);
    const [face] = await facesOn(models, img);
    const shifted = await photo(6, 1280, 6, 4);
    const [face2] = await facesOn(models, shifted);
    const vs = [...(await models.embedder.embedAligned(img, [face.keypoints])), ...(await models.embedder.embedAligned(shifted, [face2.keypoints]))];
    const mean = meanEmbedding(vs);
    assert.ok(Math.abs(cosine(mean, mean) - 1) < 1e-5);
    for (const v of vs) assert.ok(cosine(mean, v) >= Math.min(...vs.map((u) => cosine(u, vs[0]))));
  });
});

test('FaceEmbedder: no faces, no model call', async () => {
  const embedder = new FaceEmbedder({ run: () => Promise.reject(new Error('called')) });
  const img: RgbImage = { width: 2, height: 2, data: new Uint8Array(12) };
  assert.deepEqual(await embedder.embedAligned(img, []), []);
  assert.deepEqual(await embedder.embed(img, []), []);
});
