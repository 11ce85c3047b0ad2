// The face models on tfjs (WebAssembly backend), as the engine first ran them: the reference the
// onnxruntime conversion and the JS preprocessing are checked against (tests, scripts/model-timing.ts).
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { humanModelsDir } from '../../src/vision/human-models.ts';

export { tf };

let ready: Promise<void> | undefined;

/** Starts the tfjs WebAssembly backend once per process (its .wasm files ship in the npm package). */
export function initTensorflow(): Promise<void> {
  ready ??= (async () => {
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('tfjs wasm backend failed to initialise');
    await tf.ready();
  })();
  return ready;
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** An IOHandler that reads a tfjs graph model (model.json + weight shards) from disk. */
export function fileModelHandler(jsonPath: string): tf.io.IOHandler {
  return {
    load: async () => {
      const model = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
      const dir = dirname(jsonPath);
      const shards = await Promise.all(
        model.weightsManifest.flatMap((group) => group.paths.map((p) => readFile(join(dir, p)))),
      );
      const all = Buffer.concat(shards);
      return {
        modelTopology: model.modelTopology as object,
        weightSpecs: model.weightsManifest.flatMap((group) => group.weights),
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
        format: model.format,
        generatedBy: model.generatedBy,
        convertedBy: model.convertedBy ?? undefined,
      };
    },
  };
}

/** Loads one of the graph models shipped by @vladmandic/human, by name (e.g. 'blazeface'). */
export async function loadHumanModel(name: string): Promise<GraphModel> {
  await initTensorflow();
  return loadGraphModel(fileModelHandler(join(humanModelsDir(), `${name}.json`)));
}
