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

/**
 * A 6 s still of one face (720×720), with 0.5 s of silence and then a narration as its soundtrack.
 * `fps` may change: `{ fps: 30, thenFps: 25, afterS: 1 }` is 30 frames a second for the first
 * second and 25 after it (a variable frame rate, as phones record in low light).
 */
async function narratedStill(name: string, video: { fps: number; preset: string; thenFps?: number; afterS?: number }): Promise<string> {
  const photo = await portrait('a', tmp.file(`${name}.png`));
  const wav = tmp.file(`${name}.wav`);
  execFileSync('espeak-ng', ['-w', wav, 'This is the narrator speaking over a picture of someone who says nothing at all.']);
  const out = tmp.file(`${name}.mp4`);
  const { fps, thenFps = fps, afterS = 0 } = video;
  const first = Math.round(fps * afterS);
  // frame n shown at n/fps, and from frame `first` on every 1/thenFps, on a clock fine enough for both
  const retime = thenFps === fps ? '' : `,settb=1/600,setpts='if(lt(N,${first}),N/${fps},${afterS}+(N-${first})/${thenFps})/TB'`;
  await ffmpeg([
    '-loop', '1', '-framerate', String(fps), '-i', photo, '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=0.5', '-i', wav, '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=6',
    '-filter_complex', `[0:v]scale=720:720${retime},format=yuv420p[v];[1:a][2:a][3:a]concat=n=3:v=0:a=1[a]`, '-map', '[v]', '-map', '[a]',
    ...(retime ? ['-fps_mode', 'passthrough', '-enc_time_base', '1/600', '-video_track_timescale', '600'] : []),
    '-t', '6', '-c:v', 'libx264', '-preset', video.preset, '-c:a', 'aac', out,
  ]);
  return out;
}

/** The times the face's lips were measured between `fromMs` and `toMs` (by default 1 and 3 s: the narration), and the largest gap between them. */
function lipTimes(result: { faces: { timeline: { samples: { timeMs: number; mouthMotion?: unknown }[] } }[] }, fromMs = 1000, toMs = 3000) {
  const times = result.faces[0].timeline.samples.filter((s) => s.timeMs >= fromMs && s.timeMs < toMs && s.mouthMotion).map((s) => s.timeMs);
  return { count: times.length, largestGapMs: Math.max(...times.slice(1).map((t, i) => t - times[i])) };
}

test('a narrator over a still photo: the voice is heard, the photo is not speaking', { skip }, async () => {
  // 25 fps without B-frames ('ultrafast'): every frame is decoded anyway
  const video = await narratedStill('narrated', { fps: 25, preset: 'ultrafast' });
  const { analysis } = await identifyFile(video, { outDir: tmp.file('out') });
  const { result } = analysis;
  assert.equal(result.faces.length, 1, 'one face');
  assert.equal(result.audio.present, true);
  const heard = total(result.audio.speech);
  assert.ok(heard >= 2000, `voice heard for ${heard} ms`);
  assert.ok(result.audio.speech[0].startMs >= 300 && result.audio.speech[0].startMs <= 900, `voice starts at ${result.audio.speech[0].startMs} ms`);
  // lips were followed 15 times a second while the voice was heard (at 25 fps: 40 and 80 ms apart in turn)
  const lips = lipTimes(result);
  assert.ok(lips.count >= 29, `${lips.count} lip measures in 2 s of speech`);
  assert.ok(lips.largestGapMs <= 80, `lip measures up to ${lips.largestGapMs} ms apart`);
  assert.deepEqual(result.faces[0].speaking, [], 'a still mouth does not speak');
});

test('B-frames at 25 fps: with a voice every frame is decoded, so the lips are still followed 15 times a second', { skip }, async () => {
  // x264 'medium' leaves every other frame unreferenced: skipping those would leave 12.5 frames a second
  const video = await narratedStill('bframes25', { fps: 25, preset: 'medium' });
  const { analysis } = await identifyFile(video, { outDir: tmp.file('out-b25') });
  assert.equal(analysis.skippedNonReference, false, 'every frame decoded');
  assert.ok(analysis.stats.framesDecoded >= 148, `${analysis.stats.framesDecoded} frames decoded of 150`);
  const lips = lipTimes(analysis.result);
  assert.ok(lips.count >= 29, `${lips.count} lip measures in 2 s of speech`);
  assert.ok(lips.largestGapMs <= 80, `lip measures up to ${lips.largestGapMs} ms apart`);
});

test('B-frames at 30 fps: the reference frames come 15 a second, so the others are still left out', { skip }, async () => {
  const video = await narratedStill('bframes30', { fps: 30, preset: 'medium' });
  const { analysis } = await identifyFile(video, { outDir: tmp.file('out-b30') });
  assert.equal(analysis.skippedNonReference, true, 'only reference frames decoded');
  assert.ok(analysis.stats.framesDecoded <= 120, `${analysis.stats.framesDecoded} frames decoded of 180`);
  const lips = lipTimes(analysis.result);
  assert.ok(lips.count >= 29, `${lips.count} lip measures in 2 s of speech`);
  assert.ok(lips.largestGapMs <= 70, `lip measures up to ${lips.largestGapMs} ms apart`);
});

test('a frame rate that drops from 30 to 25 fps during the voice (B-frames): every frame is decoded from there, so the lips are still followed 15 times a second', { skip }, async () => {
  // the first frames come 15 reference frames a second, so decoding starts with those alone
  const video = await narratedStill('vfr', { fps: 30, preset: 'medium', thenFps: 25, afterS: 1 });
  const { analysis } = await identifyFile(video, { outDir: tmp.file('out-vfr') });
  assert.equal(analysis.skippedNonReference, false, 'every frame decoded from some point on');
  const lips = lipTimes(analysis.result, 2000, 4000);
  assert.ok(lips.count >= 29, `${lips.count} lip measures in 2 s of speech at 25 fps`);
  // 80 ms, and the 1/600 s clock of the file, rounded to whole ms
  assert.ok(lips.largestGapMs <= 84, `lip measures up to ${lips.largestGapMs} ms apart`);
  const times = analysis.observations.map((o) => o.timeMs);
  assert.ok(times.every((t, i) => i === 0 || t > times[i - 1]), 'no frame analysed twice, in order');
  assert.deepEqual(analysis.result.faces[0].speaking, [], 'a still mouth does not speak');
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
