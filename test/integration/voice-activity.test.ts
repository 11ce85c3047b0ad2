import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { decodeAudio } from '../../src/media/audio.ts';
import { probeVideo } from '../../src/media/probe.ts';
import { detectVoice, loadVoiceModel } from '../../src/vision/voice-activity.ts';
import { skipWithoutEspeak as skip } from '../helpers/talking-face.ts';
import { ffmpeg, makeTempDir, probeJson, type TempDir } from '../helpers/make-video.ts';

let tmp: TempDir;
before(async () => {
  tmp = await makeTempDir();
});
after(async () => {
  await tmp?.cleanup();
});

/** A short black video carrying the given sound, so the soundtrack goes through the engine's own audio decoder. */
async function withSound(name: string, audioInput: string[], seconds: number): Promise<string> {
  const out = tmp.file(`${name}.mp4`);
  await ffmpeg(['-f', 'lavfi', '-i', `color=c=black:s=320x240:r=25:d=${seconds}`, ...audioInput, '-t', String(seconds), '-shortest', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-pix_fmt', 'yuv420p', out]);
  return out;
}

async function voiceIn(file: string) {
  const info = await probeVideo(file);
  const audio = await decodeAudio(file, info);
  assert.ok(audio, 'the video has a soundtrack');
  return { audio, voice: await detectVoice(await loadVoiceModel(), audio) };
}

const total = (spans: { startMs: number; endMs: number }[]) => spans.reduce((s, x) => s + x.endMs - x.startMs, 0);

test('espeak-ng speech after a second of silence is heard as speech, where it is', { skip }, async () => {
  const wav = tmp.file('speech.wav');
  execFileSync('espeak-ng', ['-w', wav, 'The quick brown fox jumps over the lazy dog. Then it runs into the forest and is never seen again.']);
  // 1 s of silence, the speech, then silence to 9 s
  const file = await withSound('speech', ['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=1', '-i', wav, '-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=9', '-filter_complex', '[1:a][2:a][3:a]concat=n=3:v=0:a=1[a]', '-map', '0:v', '-map', '[a]'], 9);
  const { audio, voice } = await voiceIn(file);
  const spokenMs = (audio.samples.length / audio.sampleRate) * 1000;
  assert.equal(voice.probability.length, Math.floor(audio.samples.length / 512));
  assert.ok(voice.speech.length > 0, 'speech found');
  assert.ok(voice.speech[0].startMs >= 800 && voice.speech[0].startMs <= 1400, `speech starts at ${voice.speech[0].startMs} ms`);
  const wavSeconds = Number((await probeJson(wav)).format.duration);
  const heard = total(voice.speech);
  assert.ok(heard >= 0.6 * wavSeconds * 1000 && heard <= wavSeconds * 1000 + 500, `heard ${heard} ms of ${wavSeconds} s of speech`);
  assert.ok(voice.speech[voice.speech.length - 1].endMs <= 1000 + wavSeconds * 1000 + 400, 'no speech after the voice ends');
  assert.ok(spokenMs > 8000);
});

test('silence and a steady tone are not speech', { skip }, async () => {
  const silent = await voiceIn(await withSound('silence', ['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono:d=4', '-map', '0:v', '-map', '1:a'], 4));
  assert.deepEqual(silent.voice.speech, []);
  const tone = await voiceIn(await withSound('tone', ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000:duration=4', '-map', '0:v', '-map', '1:a'], 4));
  assert.ok(total(tone.voice.speech) <= 500, `tone heard as speech for ${total(tone.voice.speech)} ms`);
});
