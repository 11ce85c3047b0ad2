import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { identifyFile } from '../../src/pipeline/identify-file.ts';
import { portrait } from '../helpers/face-photos.ts';
import { skipWithoutEspeak as skip } from '../helpers/talking-face.ts';
import { ffmpeg, makeTempDir, type TempDir } from '../helpers/make-video.ts';

let tmp: TempDir;
before(async () => {
  tmp = await makeTempDir();
});
after(async () => {
  await tmp?.cleanup();
});

const total = (spans: { startMs: number; endMs: number }[]) => spans.reduce((s, x) => s + x.endMs - x.startMs, 0);

test('a narrator over a still photo: the voice is heard, the photo is not speaking', { skip }, async () => {
  const photo = await portrait('a', tmp.file('a.png'));
  const wav = tmp.file('narration.wav');
  execFileSync('espeak-ng', ['-w', wav, 'This is the narrator speaking over a picture of someone who says nothing at all.']);
  const video = tmp.file('narrated.mp4');
  // 0.5 s of silence, then the narration, on a 6 s still of one face
  await ffmpeg([
    '-loop', '1', '-framerate', '25', '-i', photo, '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=0.5', '-i', wav, '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=6',
    '-filter_complex', '[0:v]scale=720:720,format=yuv420p[v];[1:a][2:a][3:a]concat=n=3:v=0:a=1[a]', '-map', '[v]', '-map', '[a]',
    '-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', video,
  ]);
  const { analysis } = await identifyFile(video, { outDir: tmp.file('out') });
  const { result } = analysis;
  assert.equal(result.faces.length, 1, 'one face');
  assert.equal(result.audio.present, true);
  const heard = total(result.audio.speech);
  assert.ok(heard >= 2000, `voice heard for ${heard} ms`);
  assert.ok(result.audio.speech[0].startMs >= 300 && result.audio.speech[0].startMs <= 900, `voice starts at ${result.audio.speech[0].startMs} ms`);
  // lips were followed densely while the voice was heard (at least 15 a second)
  const samples = result.faces[0].timeline.samples.filter((s) => s.timeMs >= 1000 && s.timeMs < 3000);
  assert.ok(samples.length >= 25, `${samples.length} lip samples in 2 s of speech`);
  assert.deepEqual(result.faces[0].speaking, [], 'a still mouth does not speak');
});

test('a video without a soundtrack: no audio, nobody speaking', async () => {
  const photo = await portrait('b', tmp.file('b.png'));
  const video = tmp.file('silent.mp4');
  await ffmpeg(['-loop', '1', '-framerate', '25', '-i', photo, '-vf', 'scale=720:720,format=yuv420p', '-t', '3', '-c:v', 'libx264', '-preset', 'ultrafast', '-an', video]);
  const { result } = (await identifyFile(video, { outDir: tmp.file('out2') })).analysis;
  assert.equal(result.faces.length, 1);
  assert.deepEqual(result.audio, { present: false, speech: [] });
  assert.deepEqual(result.faces[0].speaking, []);
});
