/**
 * A face that speaks, made at test time: espeak-ng says a known text, and a still portrait's mouth
 * opens and closes with the loudness of that speech (a dark ellipse over the lips whose height
 * follows the speech envelope, frame by frame), with the speech as the video's soundtrack.
 *
 *   const { out } = await makeSegmentsVideo({ out: silent, segments: [{ seconds: 1, blank: true }, { seconds: 3, images: [b, c], fit: 0.8 }] });
 *   await addTalkingMouth({ video: out, out: talking, mouth: mouthInSegments('b', { slot: 'left', fit: 0.8 }), text: 'Hello there', fromMs: 1200 });
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { ffmpegPath } from '../../src/media/binaries.ts';
import { personOnPhoto, type PersonName } from './face-photos.ts';
import { ffmpeg, probeJson } from './make-video.ts';

/** Where the lips are, relative to the person's face box (x, y of the centre; width), measured on the photos. */
const LIPS: Partial<Record<PersonName, { x: number; y: number; width: number }>> = {
  b: { x: 0.555, y: 0.8, width: 0.45 },
};

/** A mouth in video pixels: its centre, its width and how tall it is when wide open. */
export interface MouthPlace {
  cx: number;
  cy: number;
  width: number;
  openHeight: number;
}

/** The person's portrait (face-photos.ts `portrait`): its side and the face box on it. */
function portraitFace(name: PersonName): { side: number; face: [number, number, number, number] } {
  const { face } = personOnPhoto(name);
  const [x, y, w, h] = face;
  // the same crop as portrait()
  const side = Math.round(Math.max(w, h) * 2.8);
  const cx = x + w / 2, cy = y + h / 2;
  const x0 = Math.max(0, Math.round(cx - side / 2)), y0 = Math.max(0, Math.round(cy - side / 2.4));
  return { side, face: [x - x0, y - y0, w, h] };
}

/** The `skip` option of a test that makes speech with espeak-ng: false when it is installed, else why the test is skipped. */
export const skipWithoutEspeak: false | string = (() => {
  try {
    execFileSync('espeak-ng', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'espeak-ng is not installed (apt-get install espeak-ng): speech is made with it at test time';
  }
})();

const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

/**
 * Where `name`'s mouth lands in a makeSegmentsVideo frame: `slot` 'left'/'right' for a segment of
 * two `images`, 'centre' for one `image` (the same fitting as make-video.ts: a square portrait
 * scaled into the slot times `fit`, centred).
 */
export function mouthInSegments(name: PersonName, o: { slot: 'left' | 'right' | 'centre'; fit?: number; width?: number; height?: number }): MouthPlace {
  const lips = LIPS[name];
  if (!lips) throw new Error(`no lip position measured for person ${name}`);
  const W = o.width ?? 1280, H = o.height ?? 720, fit = o.fit ?? 1;
  const slotW = o.slot === 'centre' ? W : Math.floor(W / 2);
  const boxW = even(slotW * fit), boxH = even(H * fit);
  const shown = Math.min(boxW, boxH); // the portrait is square
  const left = (o.slot === 'right' ? slotW : 0) + Math.floor((slotW - boxW) / 2) + Math.floor((boxW - shown) / 2);
  const top = Math.floor((H - boxH) / 2) + Math.floor((boxH - shown) / 2);
  const { side, face } = portraitFace(name);
  const k = shown / side;
  const [fx, fy, fw, fh] = face;
  return { cx: left + (fx + lips.x * fw) * k, cy: top + (fy + lips.y * fh) * k, width: lips.width * fw * k, openHeight: 0.14 * fh * k };
}

/** espeak-ng says `text` into a WAV file. */
export function speak(text: string, outWav: string, wordsPerMinute = 160): Promise<string> {
  return new Promise((res, rej) => {
    execFile('espeak-ng', ['-s', String(wordsPerMinute), '-w', outWav, text], (err, _o, stderr) => (err ? rej(new Error(`espeak-ng: ${stderr || err.message}`)) : res(outWav)));
  });
}

/** Loudness of a sound file per video frame, 0..1 (RMS over each frame, relative to the loudest frame). */
export async function loudnessPerFrame(file: string, fps: number): Promise<number[]> {
  const rate = 16000;
  const pcm = await ffmpeg(['-i', file, '-ac', '1', '-ar', String(rate), '-f', 's16le', '-']);
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
  const perFrame = rate / fps;
  const rms: number[] = [];
  for (let f = 0; f * perFrame < samples.length; f++) {
    const a = Math.round(f * perFrame), b = Math.min(samples.length, Math.round((f + 1) * perFrame));
    let sum = 0;
    for (let i = a; i < b; i++) sum += samples[i] * samples[i];
    rms.push(Math.sqrt(sum / Math.max(1, b - a)));
  }
  const top = Math.max(1, ...rms);
  return rms.map((r) => r / top);
}

/** How far the mouth opens (0..1) at a loudness: closed in silence, wide open on loud syllables. */
const opening = (loudness: number) => Math.max(0, Math.min(1, (loudness - 0.06) / 0.5));

/** Paints an open mouth (a dark red-brown ellipse, 0 < open ≤ 1) on one yuv420p frame. */
function paintMouth(frame: Buffer, W: number, H: number, m: MouthPlace, open: number): void {
  const rx = m.width / 2, ry = Math.max(0.5, (m.openHeight * open) / 2);
  const uOff = W * H, vOff = uOff + (W / 2) * (H / 2);
  for (let y = Math.floor(m.cy - ry); y <= Math.ceil(m.cy + ry); y++) {
    if (y < 0 || y >= H) continue;
    const dy = (y + 0.5 - m.cy) / ry;
    if (dy * dy > 1) continue;
    const half = rx * Math.sqrt(1 - dy * dy);
    for (let x = Math.max(0, Math.round(m.cx - half)); x < Math.min(W, Math.round(m.cx + half)); x++) {
      frame[y * W + x] = 38;
      const c = (y >> 1) * (W / 2) + (x >> 1);
      frame[uOff + c] = 122;
      frame[vOff + c] = 146;
    }
  }
}

export interface TalkingMouthOptions {
  /** A silent video (e.g. from makeSegmentsVideo). */
  video: string;
  out: string;
  mouth: MouthPlace;
  /** What the face says (espeak-ng), starting at fromMs. */
  text: string;
  fromMs: number;
}

/**
 * Re-encodes `video` with the mouth at `mouth` opening in time with `text` spoken from `fromMs`,
 * and that speech as its soundtrack (silence elsewhere, as long as the video).
 * Returns the output path and when the speech is heard (ms, from the speech's loudness).
 */
export async function addTalkingMouth(o: TalkingMouthOptions): Promise<{ out: string; speechMs: { start: number; end: number } }> {
  const info = await probeJson(o.video);
  const v = info.streams.find((s: { codec_type: string }) => s.codec_type === 'video');
  const W = Number(v.width), H = Number(v.height);
  const [num, den] = String(v.r_frame_rate).split('/').map(Number);
  const fps = num / (den || 1);
  const durationSec = Number(info.format.duration);
  const wav = await speak(o.text, `${o.out}.speech.wav`);
  const loud = await loudnessPerFrame(wav, fps);
  const voiced = loud.map((l, i) => (opening(l) > 0 ? i : -1)).filter((i) => i >= 0);
  const speechMs = { start: o.fromMs + (voiced[0] * 1000) / fps, end: o.fromMs + ((voiced[voiced.length - 1] + 1) * 1000) / fps };

  const decoder = spawn(ffmpegPath(), ['-nostdin', '-v', 'error', '-i', o.video, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const encoder = spawn(
    ffmpegPath(),
    [
      '-nostdin', '-v', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-r', String(fps), '-i', 'pipe:0',
      '-i', wav,
      '-filter_complex', `[1:a]adelay=${Math.round(o.fromMs)}:all=1,apad,atrim=duration=${durationSec}[a]`,
      '-map', '0:v', '-map', '[a]',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '20', '-pix_fmt', 'yuv420p', '-g', String(Math.round(fps * 2)),
      '-c:a', 'aac', '-ar', '44100', '-movflags', '+faststart', '-f', 'mp4', o.out,
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const encoded = once(encoder, 'close');
  const frameBytes = (W * H * 3) / 2;
  let chunks: Buffer[] = [];
  let buffered = 0;
  let index = 0;
  for await (const chunk of decoder.stdout as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    buffered += chunk.length;
    if (buffered < frameBytes) continue;
    let pending = Buffer.concat(chunks);
    while (pending.length >= frameBytes) {
      const frame = Buffer.from(pending.subarray(0, frameBytes));
      pending = pending.subarray(frameBytes);
      const k = Math.round(((index * 1000) / fps - o.fromMs) * (fps / 1000));
      const open = k >= 0 && k < loud.length ? opening(loud[k]) : 0;
      if (open > 0) paintMouth(frame, W, H, o.mouth, open);
      index++;
      if (!encoder.stdin.write(frame)) await once(encoder.stdin, 'drain');
    }
    chunks = [pending];
    buffered = pending.length;
  }
  encoder.stdin.end();
  const [decodeCode] = decoder.exitCode === null ? await once(decoder, 'close') : [decoder.exitCode];
  const [encodeCode] = await encoded;
  if (decodeCode !== 0 || encodeCode !== 0) throw new Error(`talking mouth: ffmpeg exited ${decodeCode}/${encodeCode}`);
  return { out: o.out, speechMs };
}
