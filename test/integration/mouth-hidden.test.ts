import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identifyFile } from '../../src/pipeline/identify-file.ts';
import { meshCropFor } from '../../src/vision/face-mesh.ts';
import { loadFaceModels } from '../../src/vision/models.ts';
import { portrait } from '../helpers/face-photos.ts';
import { ffmpeg, makeSegmentsVideo, makeTempDir, type TempDir } from '../helpers/make-video.ts';

const W = 1280, H = 720, FPS = 30;
const FRAME_MS = 1000 / FPS;

/**
 * A flat skin-coloured patch is drawn over one person's mouth (from between nose and lips down to
 * the chin, a little wider than the mouth), found by the real models on the uncovered video.
 */
describe('a covered mouth is not usable (mouth_hidden); covers of 0.5 s or less are bridged', () => {
  let tmp: TempDir;
  let video: Awaited<ReturnType<typeof identifyFile>>;

  before(async () => {
    tmp = await makeTempDir('kirin-mouth-');
    // person c faces the camera upright, mouth open on her teeth
    const face = await portrait('c', tmp.file('c.png'));
    // 0–5 s: covered 1.5–4.5 s (no uncovered stretch of 2 s) → rejected, mouth_hidden
    // 6.5–10.5 s: covered 8.5–8.8 s (0.3 s) → bridged, usable throughout
    // 12–17 s: covered from 15 s → usable 12–15 s
    const { out: plain } = await makeSegmentsVideo({
      out: tmp.file('plain.mp4'), width: W, height: H, fps: FPS,
      segments: [
        { seconds: 5, image: face, fit: 0.8 }, { seconds: 1.5, blank: true },
        { seconds: 4, image: face, fit: 0.8 }, { seconds: 1.5, blank: true },
        { seconds: 5, image: face, fit: 0.8 },
      ],
    });
    const frame = await ffmpeg(['-ss', '0.5', '-i', plain, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
    const img = { width: W, height: H, data: new Uint8Array(frame) };
    const { detector, mesh } = await loadFaceModels();
    const [found] = await detector.detect(img);
    assert.ok(found, 'the portrait has a face');
    const [{ points: p }] = await mesh.run(img, [meshCropFor(found.box)]);
    const mouthW = p[291][0] - p[61][0];
    const x0 = Math.round(p[61][0] - 0.5 * mouthW), x1 = Math.round(p[291][0] + 0.5 * mouthW);
    const y0 = Math.round((p[1][1] + p[0][1]) / 2), y1 = Math.round(p[152][1]);
    const when = "between(t,1.5,4.5)+between(t,8.5,8.8)+gte(t,15)";
    const covered = tmp.file('covered.mp4');
    await ffmpeg(['-i', plain, '-vf', `drawbox=x=${x0}:y=${y0}:w=${x1 - x0}:h=${y1 - y0}:color=0xb08060@1:t=fill:enable='${when}'`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', '-pix_fmt', 'yuv420p', covered]);
    video = await identifyFile(covered, { outDir: tmp.file('faces') });
  });
  after(() => tmp.cleanup());

  const near = (got: number, want: number, what: string) =>
    assert.ok(Math.abs(got - want) <= FRAME_MS + 1, `${what}: ${Math.round(got)} ms, expected ${want} ± one frame`);

  it('a face whose mouth is covered for 3 of its 5 s is rejected with reason mouth_hidden', () => {
    const hidden = video.analysis.result.rejected.filter((r) => r.startMs < 5000);
    assert.equal(hidden.length, 1, `one rejected face in 0–5 s, got ${JSON.stringify(video.analysis.result.rejected.map((r) => [r.reason, r.startMs, r.endMs]))}`);
    assert.equal(hidden[0].reason, 'mouth_hidden');
    assert.ok(!video.analysis.result.faces.some((f) => f.startMs < 5000), 'no usable face in 0–5 s');
  });

  it('a 0.3 s cover is bridged: the face is usable across it', () => {
    const f = video.analysis.result.faces.find((x) => x.startMs > 6000 && x.startMs < 7000);
    assert.ok(f, `a face from 6.5 s, got ${JSON.stringify(video.analysis.result.faces.map((x) => [x.startMs, x.endMs]))}`);
    near(f.startMs, 6500, 'start');
    near(f.endMs, 10500, 'end');
    // seen and bridged, not missed
    const dip = f.timeline.spans.find((s) => s.reason === 'mouth_hidden');
    assert.ok(dip, `the cover shows in the timeline: ${JSON.stringify(f.timeline.spans)}`);
    near(dip.startMs, 8500, 'cover start');
    near(dip.endMs, 8800, 'cover end');
  });

  it('a cover from 15 s on ends the interval there', () => {
    const f = video.analysis.result.faces.find((x) => x.startMs > 11500);
    assert.ok(f, `a face from 12 s, got ${JSON.stringify(video.analysis.result.faces.map((x) => [x.startMs, x.endMs]))}`);
    near(f.startMs, 12000, 'start');
    near(f.endMs, 15000, 'end');
  });
});
