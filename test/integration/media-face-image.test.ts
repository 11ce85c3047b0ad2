import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decodeFrames } from '../../src/media/decode.ts';
import { cutFaceImage } from '../../src/media/face-image.ts';
import { probeVideo } from '../../src/media/probe.ts';
import { ffmpeg, makeTempDir, makeVideo, probeJson, type TempDir } from '../helpers/make-video.ts';

async function jpegSize(file: string): Promise<[number, number, string]> {
  const s = (await probeJson(file)).streams[0];
  return [s.width, s.height, s.codec_name];
}

const mean = (d: Uint8Array) => d.reduce((a, b) => a + b, 0) / d.length;

/** Mean RGB level of an image, decoded by ffmpeg. */
async function imageMean(file: string): Promise<number> {
  return mean(await ffmpeg(['-i', file, '-vf', 'scale=8:6,format=rgb24', '-f', 'rawvideo', 'pipe:1']));
}

describe('cutFaceImage', () => {
  let tmp: TempDir;
  let video: string;

  before(async () => {
    tmp = await makeTempDir();
    video = await makeVideo({ out: tmp.file('src.mp4'), width: 640, height: 360, fps: 10, seconds: 1 });
  });
  after(() => tmp.cleanup());

  it('writes a JPEG of the box plus 40% margin per side, at source resolution', async () => {
    const out = tmp.file('face.jpg');
    await cutFaceImage(video, { timeMs: 300, box: { x: 100, y: 50, width: 200, height: 100 }, outFile: out });
    assert.deepEqual(await jpegSize(out), [360, 180, 'mjpeg']);
  });

  it('clamps the enlarged box to the frame', async () => {
    const out = tmp.file('corner.jpg');
    await cutFaceImage(video, { timeMs: 0, box: { x: 600, y: 300, width: 100, height: 100 }, outFile: out });
    assert.deepEqual(await jpegSize(out), [80, 100, 'mjpeg']);
  });

  it('maxSide scales a large crop down', async () => {
    const out = tmp.file('small.jpg');
    await cutFaceImage(video, { timeMs: 0, box: { x: 0, y: 0, width: 640, height: 360 }, margin: 0, maxSide: 320, outFile: out });
    assert.deepEqual(await jpegSize(out), [320, 180, 'mjpeg']);
  });

  it('crops in display coordinates of a rotated video', async () => {
    const rot = await makeVideo({ out: tmp.file('rot.mp4'), width: 320, height: 240, fps: 10, seconds: 1, rotate: 90 });
    const out = tmp.file('rot.jpg');
    await cutFaceImage(rot, { timeMs: 0, box: { x: 0, y: 100, width: 240, height: 200 }, margin: 0, outFile: out });
    assert.deepEqual(await jpegSize(out), [240, 200, 'mjpeg']);
  });

  it('picks the frame decodeFrames reported at that time (video starting after the audio, edit list)', async () => {
    // Every frame of a 'frameramp' video has its own flat gray level, so the frame can be told by its mean.
    const delayed = await makeVideo({ out: tmp.file('ramp-delayed.mp4'), source: 'frameramp', width: 64, height: 48, fps: 15, seconds: 2, videoDelaySec: 0.5 });
    const ramp = await makeVideo({ out: tmp.file('ramp.mp4'), source: 'frameramp', width: 64, height: 48, fps: 15, seconds: 2, preset: 'veryfast' });
    const edited = tmp.file('ramp-edit.mp4');
    await ffmpeg(['-ss', '0.5', '-i', ramp, '-c', 'copy', edited]);

    for (const file of [delayed, edited]) {
      const info = await probeVideo(file);
      const frames: Array<{ timeMs: number; level: number }> = [];
      for await (const f of decodeFrames(file, { width: 8, height: 6, info })) frames.push({ timeMs: f.timeMs, level: mean(f.data) });
      for (const k of [0, 1, 7, frames.length - 1]) {
        const out = tmp.file(`ramp-${k}.jpg`);
        await cutFaceImage(file, { timeMs: frames[k].timeMs, box: { x: 0, y: 0, width: 64, height: 48 }, margin: 0, outFile: out, info });
        const level = await imageMean(out);
        const nearest = frames.reduce((best, f, i) => (Math.abs(f.level - level) < Math.abs(frames[best].level - level) ? i : best), 0);
        assert.equal(nearest, k, `${file}: cut at ${frames[k].timeMs} ms shows frame ${nearest}, expected ${k}`);
      }
    }
  });

  it('a keyframe is cut alone (keyframe: true), the same picture as an accurate seek to it', async () => {
    const ramp = await makeVideo({ out: tmp.file('ramp-keys.mp4'), source: 'frameramp', width: 64, height: 48, fps: 15, seconds: 5, videoDelaySec: 0.5 });
    const info = await probeVideo(ramp);
    const keys: number[] = [];
    for await (const f of decodeFrames(ramp, { width: 8, height: 6, info })) if (f.key) keys.push(f.timeMs);
    assert.ok(keys.length >= 2 && keys[0] === 0, `keyframes at ${keys.join(', ')} ms`);
    const box = { x: 0, y: 0, width: 64, height: 48 };
    for (const timeMs of keys) {
      await cutFaceImage(ramp, { timeMs, box, margin: 0, info, outFile: tmp.file('accurate.jpg') });
      await cutFaceImage(ramp, { timeMs, box, margin: 0, info, outFile: tmp.file('alone.jpg'), keyframe: true });
      assert.deepEqual(readFileSync(tmp.file('alone.jpg')), readFileSync(tmp.file('accurate.jpg')), `keyframe at ${timeMs} ms`);
    }
  });

  it('referenceFrame (frames no other frame refers to left undecoded) cuts the same picture of a kept frame', async () => {
    const bframes = await makeVideo({ out: tmp.file('bframes.mp4'), width: 320, height: 240, fps: 30, seconds: 2, preset: 'medium' });
    const info = await probeVideo(bframes);
    const times: number[] = [];
    for await (const f of decodeFrames(bframes, { width: 32, height: 24, info, skipNonReference: true })) times.push(f.timeMs);
    assert.ok(times.length < 50, 'the file has frames nothing refers to');
    const box = { x: 100, y: 60, width: 120, height: 100 };
    for (const timeMs of [times[7], times[times.length - 2]]) {
      await cutFaceImage(bframes, { timeMs, box, info, outFile: tmp.file('full.jpg') });
      await cutFaceImage(bframes, { timeMs, box, info, outFile: tmp.file('ref.jpg'), referenceFrame: true });
      assert.deepEqual(readFileSync(tmp.file('ref.jpg')), readFileSync(tmp.file('full.jpg')), `picture at ${timeMs} ms`);
    }
  });

  it('rejects a time past the end', async () => {
    await assert.rejects(
      cutFaceImage(video, { timeMs: 5000, box: { x: 0, y: 0, width: 100, height: 100 }, outFile: tmp.file('none.jpg') }),
      /no frame at 5000 ms/,
    );
  });
});
