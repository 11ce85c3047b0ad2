import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { SamplingOptions } from '../../src/pipeline/scheduler.ts';
import { identifyFile } from '../../src/pipeline/identify-file.ts';
import { portrait } from '../helpers/face-photos.ts';
import { ffmpeg, makeSegmentsVideo, makeTempDir, setRotation, type Segment, type TempDir } from '../helpers/make-video.ts';

/** Videos made at test time from real face photos; every boundary sits on a frame (30 fps). */
describe('identify a video end to end', () => {
  let tmp: TempDir;
  let a: string, b: string, c: string, d: string;

  before(async () => {
    tmp = await makeTempDir('kirin-identify-');
    [a, b, c, d] = await Promise.all((['a', 'b', 'c', 'd'] as const).map((p) => portrait(p, tmp.file(`${p}.png`))));
  });
  after(() => tmp.cleanup());

  const run = async (name: string, segments: Segment[]) => {
    const { out } = await makeSegmentsVideo({ out: tmp.file(`${name}.mp4`), segments, width: 1280, height: 720, fps: 30 });
    const video = await identifyFile(out, { outDir: tmp.file(`${name}-faces`) });
    return { video, faces: video.analysis.result.faces.map((f) => [f.faceId, Math.round(f.startMs), Math.round(f.endMs)]) };
  };

  it('one face: its interval and a JPEG picture of it', async () => {
    const { video, faces } = await run('one', [{ seconds: 1, blank: true }, { seconds: 3, image: a, fit: 0.8 }, { seconds: 1, blank: true }]);
    assert.deepEqual(faces, [['0', 1000, 4000]]);
    const jpeg = await readFile(video.pictures[0].file);
    assert.equal(jpeg.readUInt16BE(0), 0xffd8, 'the face picture is a JPEG');
    const box = video.pictures[0].box;
    assert.ok(box.width > 100 && box.x > 300 && box.x + box.width < 980, `face box ${JSON.stringify(box)} lies in the middle`);
  });

  it('two faces side by side: two ids, left to right', async () => {
    const { video, faces } = await run('two', [{ seconds: 3, images: [a, c], fit: 0.8 }]);
    assert.deepEqual(faces, [['0', 0, 3000], ['1', 0, 3000]]);
    assert.ok(video.pictures[0].box.x < video.pictures[1].box.x);
  });

  it('a 0.5 s gap keeps the id and the interval spans it', async () => {
    const { faces } = await run('gap05', [{ seconds: 2, image: b, fit: 0.8 }, { seconds: 0.5, blank: true }, { seconds: 2, image: b, fit: 0.8 }]);
    assert.deepEqual(faces, [['0', 0, 4500]]);
  });

  it('a face hidden by a cut to a blank for 0.4 s keeps its id', async () => {
    const { faces } = await run('gap04', [{ seconds: 2.5, image: a, fit: 0.8 }, { seconds: 0.4, blank: true }, { seconds: 2.5, image: a, fit: 0.8 }]);
    assert.deepEqual(faces, [['0', 0, 5400]]);
  });

  it('a face moving across the frame keeps one track', async () => {
    // 260 px a second: about 100 px between two samples, as much as the face is wide
    const out = tmp.file('moving.mp4');
    await ffmpeg([
      '-f', 'lavfi', '-i', 'color=c=gray:s=1280x720:r=30:d=3.5', '-loop', '1', '-i', b,
      '-filter_complex', '[1:v]scale=300:300[f];[0:v][f]overlay=x=20+260*t:y=200:shortest=1,format=yuv420p',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-r', '30', out,
    ]);
    const video = await identifyFile(out, { outDir: tmp.file('moving-faces') });
    const { faces, rejected } = video.analysis.result;
    assert.deepEqual([faces.length, rejected.length], [1, 0], 'one face, no fragments');
    assert.deepEqual([Math.round(faces[0].startMs), Math.round(faces[0].endMs)], [0, 3500]);
    const xs = faces[0].timeline.samples.map((p) => p.box.x);
    assert.ok(xs[xs.length - 1] - xs[0] > 800, `the face was followed from x=${Math.round(xs[0])} to x=${Math.round(xs[xs.length - 1])}`);
  });

  it('a 1.5 s gap gives the returning face a new id', async () => {
    const { faces } = await run('gap15', [{ seconds: 2.5, image: b, fit: 0.8 }, { seconds: 1.5, blank: true }, { seconds: 2.5, image: b, fit: 0.8 }]);
    assert.deepEqual(faces, [['0', 0, 2500], ['1', 4000, 6500]]);
  });

  it('two people swapping in place at a hard cut get two ids', async () => {
    const { faces } = await run('swap', [{ seconds: 3, image: a, fit: 0.8 }, { seconds: 3, image: c, fit: 0.8 }]);
    assert.deepEqual(faces, [['0', 0, 3000], ['1', 3000, 6000]]);
  });

  it('two look-alikes (same photo, light and framing) replacing each other at a hard cut get two ids', async () => {
    const { faces } = await run('lookalike', [{ seconds: 3, image: b, fit: 0.8 }, { seconds: 3, image: d, fit: 0.8 }]);
    assert.deepEqual(faces, [['0', 0, 3000], ['1', 3000, 6000]]);
  });

  it('the same person across a hard cut to a closer shot keeps one id', async () => {
    const { faces } = await run('recut', [{ seconds: 3, image: b, fit: 0.6 }, { seconds: 3, image: b, fit: 0.9 }]);
    assert.deepEqual(faces, [['0', 0, 6000]]);
  });

  it('B-frames left undecoded (the default) move no boundary by more than a frame from a full decode', async () => {
    // x264 'medium' uses B-frames, which skipNonReference leaves out; 'ultrafast' (the other tests) has none
    const { out } = await makeSegmentsVideo({
      out: tmp.file('bframes.mp4'), preset: 'medium', width: 1280, height: 720, fps: 30,
      segments: [{ seconds: 1.1, blank: true }, { seconds: 2.9, image: a, fit: 0.8 }, { seconds: 1, blank: true }, { seconds: 2.5, images: [b, c], fit: 0.8 }],
    });
    const faces = async (sampling: Partial<SamplingOptions>) => {
      const video = await identifyFile(out, { outDir: tmp.file('bframes-faces'), sampling });
      return { video, faces: video.analysis.result.faces.map((f) => [f.startMs, f.endMs]) };
    };
    const exact = await faces({ skipNonReference: false, skipLoopFilter: false });
    const fast = await faces({ skipNonReference: true, skipLoopFilter: true });
    assert.ok(fast.video.analysis.stats.framesDecoded < 0.8 * exact.video.analysis.stats.framesDecoded, 'B-frames were skipped');
    assert.deepEqual(exact.faces.map(([s, e]) => [Math.round(s), Math.round(e)]), [[1100, 4000], [5000, 7500], [5000, 7500]]);
    assert.equal(fast.faces.length, 3);
    fast.faces.flat().forEach((ms, i) => assert.ok(Math.abs(ms - exact.faces.flat()[i]) <= 34, `boundary ${ms} vs ${exact.faces.flat()[i]}`));
  });

  it('no face: an empty list, not an error', async () => {
    const { video } = await run('none', [{ seconds: 2.5, blank: true, color: 'navy' }]);
    assert.deepEqual(video.analysis.result.faces, []);
    assert.deepEqual(video.pictures, []);
  });

  it('a badly blurred face is rejected as blurry', async () => {
    const blurred = tmp.file('a-blurred.png');
    await ffmpeg(['-i', a, '-vf', 'gblur=sigma=16', blurred]);
    const { video } = await run('blurred', [{ seconds: 2.5, image: blurred, fit: 0.8 }]);
    assert.deepEqual(video.analysis.result.faces, []);
    assert.deepEqual(video.analysis.result.rejected.map((r) => r.reason), ['blurry']);
  });

  it('a phone video stored sideways with rotation metadata is analysed upright', async () => {
    // coded 1280×720 holding a sideways portrait; the display matrix turns it to 720×1280
    const sideways = tmp.file('c-sideways.png');
    await ffmpeg(['-i', c, '-vf', 'transpose=2', sideways]);
    const { out } = await makeSegmentsVideo({ out: tmp.file('rotated.mp4'), segments: [{ seconds: 2.5, image: sideways, fit: 0.9 }], width: 1280, height: 720 });
    await setRotation(out, 270);
    const video = await identifyFile(out, { outDir: tmp.file('rotated-faces') });
    assert.deepEqual([video.info.width, video.info.height], [720, 1280]);
    assert.deepEqual(video.analysis.result.faces.map((f) => [f.faceId, Math.round(f.startMs), Math.round(f.endMs)]), [['0', 0, 2500]]);
  });

  it('a face on screen for under 2 s is rejected as too short', async () => {
    const { video } = await run('brief', [{ seconds: 1.5, image: a, fit: 0.8 }, { seconds: 1.5, blank: true }]);
    assert.deepEqual(video.analysis.result.faces, []);
    assert.deepEqual(video.analysis.result.rejected.map((r) => [r.reason, Math.round(r.startMs), Math.round(r.endMs)]), [['too_short', 0, 1500]]);
  });
});
