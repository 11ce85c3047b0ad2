import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { meshCropFor } from '../src/vision/face-mesh.ts';
import { squareTiles, sameFace, type Box, type Point3 } from '../src/vision/geometry.ts';
import type { RgbImage } from '../src/vision/image.ts';
import { loadFaceModels } from '../src/vision/models.ts';

/** One face the mesh found on one sampled frame (pixels of the frame scaled to a 640 px long side). */
export interface MeshedFace {
  timeMs: number;
  points: Point3[];
  confidence: number;
}

const LONG_SIDE = 640;
const MIN_MESH_CONFIDENCE = 0.5;

const isStill = (file: string) => /\.(jpe?g|png|webp)$/i.test(file);

/** Decodes `video` (or a still image: one frame) at `fps` frames per second, scaled to `width`×`height`. */
async function* frames(video: string, fps: number, width: number, height: number): AsyncGenerator<RgbImage> {
  const scale = `scale=${width}:${height}`;
  const ff = spawn('ffmpeg', ['-v', 'error', '-i', video, '-vf', isStill(video) ? scale : `fps=${fps},${scale}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const size = width * height * 3;
  let buf = Buffer.alloc(0);
  for await (const chunk of ff.stdout as AsyncIterable<Buffer>) {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= size) {
      yield { width, height, data: new Uint8Array(buf.subarray(0, size)) };
      buf = buf.subarray(size);
    }
  }
}

async function videoSize(video: string): Promise<[number, number]> {
  const ff = spawn('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height:stream_side_data=rotation', '-of', 'csv=p=0', video]);
  let out = '';
  for await (const chunk of ff.stdout as AsyncIterable<Buffer>) out += chunk;
  const [w, h] = out.trim().split('\n')[0].split(',').map(Number);
  const s = LONG_SIDE / Math.max(w, h);
  return [Math.round((w * s) / 2) * 2, Math.round((h * s) / 2) * 2];
}

/**
 * Every face in `video` sampled at `fps`, as the analysis sees it: the detector (whole frame and
 * tiles) finds faces, the mesh runs on their crops, then once more on the crop around its own
 * landmarks (as a tracked face is re-meshed).
 */
export async function meshFaces(video: string, fps: number): Promise<MeshedFace[]> {
  const { detector, mesh } = await loadFaceModels();
  const [width, height] = await videoSize(video);
  const out: MeshedFace[] = [];
  let index = 0;
  for await (const img of frames(video, fps, width, height)) {
    const timeMs = Math.round((index++ * 1000) / fps);
    const boxes: Box[] = [];
    for (const region of [undefined, ...squareTiles(width, height)]) {
      for (const d of await detector.detect(img, region)) if (!boxes.some((b) => sameFace(b, d.box))) boxes.push(d.box);
    }
    if (!boxes.length) continue;
    const first = await mesh.run(img, boxes.map(meshCropFor));
    const kept = first.filter((m) => m.confidence >= MIN_MESH_CONFIDENCE);
    const again = await mesh.run(img, kept.map((m) => meshCropFor(m.box)));
    for (const m of again) if (m.confidence >= MIN_MESH_CONFIDENCE) out.push({ timeMs, points: m.points, confidence: m.confidence });
  }
  return out;
}

/** meshFaces, kept as JSON in `cacheDir` (when given) so that scripts can be re-run without the models. */
export async function meshFacesCached(video: string, fps: number, cacheDir?: string): Promise<MeshedFace[]> {
  if (!cacheDir) return meshFaces(video, fps);
  const file = join(cacheDir, `mesh_${basename(video).replace(/\.[^.]+$/, '')}_${fps}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as MeshedFace[];
  const faces = await meshFaces(video, fps);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(file, JSON.stringify(faces));
  return faces;
}
