import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cachedConversion } from './onnx/conversion-cache.js';
import { faceApiResNetToOnnx } from './onnx/face-api-resnet.js';
import { openOnnxModel, type OnnxHumanModel } from './onnx/onnx-models.js';
import type { TfjsWeightGroup } from './onnx/tfjs-weights.js';

const require = createRequire(import.meta.url);
const MODEL = 'face_recognition_model';

/** Folder of the weights that @vladmandic/face-api ships (model/). */
function faceApiModelDir(): string {
  // the exports map hides package.json and model/, so go from the main entry (dist/…) up
  return join(dirname(require.resolve('@vladmandic/face-api')), '..', 'model');
}

/** face-api's recognition net weights: its manifest and its weight shards concatenated. */
export async function faceApiModelFiles(): Promise<{ manifest: TfjsWeightGroup[]; weightData: Uint8Array }> {
  const dir = faceApiModelDir();
  const manifest = JSON.parse(await readFile(join(dir, `${MODEL}-weights_manifest.json`), 'utf8')) as TfjsWeightGroup[];
  const shards = await Promise.all(manifest.flatMap((g) => g.paths.map((p) => readFile(join(dir, p)))));
  return { manifest, weightData: new Uint8Array(Buffer.concat(shards)) };
}

/** face-api's recognition net (dlib ResNet, 150×150 → 128) as an ONNX graph built at load time, run by onnxruntime. */
export async function loadFaceRecognitionModel(opts: { threads?: number } = {}): Promise<OnnxHumanModel> {
  const { manifest, weightData } = await faceApiModelFiles();
  const t0 = performance.now();
  const converted = cachedConversion([MODEL, JSON.stringify(manifest), weightData], () => faceApiResNetToOnnx(manifest, weightData));
  return openOnnxModel(MODEL, converted, { threads: opts.threads, convertMs: performance.now() - t0 });
}
