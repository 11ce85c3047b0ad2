import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeAudio } from '../../src/media/audio.ts';
import { probeVideo } from '../../src/media/probe.ts';
import { ffmpeg, makeTempDir, type TempDir } from '../helpers/make-video.ts';

describe('audio: the soundtrack as its own timestamped stream', () => {
  let tmp: TempDir;
  before(async () => {
    tmp = await makeTempDir();
  });
  after(() => tmp.cleanup());

  const make = async (name: string, audioArgs: string[]) => {
    const out = tmp.file(name);
    await ffmpeg([
      '-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=30:duration=3',
      ...audioArgs,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', out,
    ]);
    return out;
  };

  it('decodes 16 kHz mono samples, in time with the video, starting where the sound starts', async () => {
    const file = await make('tone.mp4', ['-itsoffset', '0.5', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2.5']);
    const info = await probeVideo(file);
    const audio = await decodeAudio(file, info);
    assert.ok(audio);
    assert.equal(audio.sampleRate, 16_000);
    assert.ok(Math.abs(audio.startMs - 500) <= 30, `sound starts at ${audio.startMs} ms`);
    assert.ok(Math.abs(audio.samples.length / 16_000 - 2.5) < 0.1, `${audio.samples.length} samples`);
    // a 440 Hz tone crosses zero 880 times a second
    let crossings = 0;
    const mid = audio.samples.subarray(8000, 24_000);
    for (let i = 1; i < mid.length; i++) if ((mid[i - 1] < 0) !== (mid[i] < 0)) crossings++;
    assert.ok(Math.abs(crossings - 880) < 20, `${crossings} zero crossings in 1 s`);
  });

  it('is null for a video without sound', async () => {
    const out = tmp.file('silent.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=30:duration=3', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]);
    assert.equal(await decodeAudio(out, await probeVideo(out)), null);
  });
});
