import { FaceDetector } from './face-detector.js';
import { FaceEmbedder } from './face-embedding.js';
import { FaceMesh } from './face-mesh.js';
import { loadFaceRecognitionModel } from './face-recognition-model.js';
import type { ModelRunner } from './model-runner.js';
import { loadOnnxHumanModel, type HumanModelName } from './onnx/onnx-models.js';

export interface FaceModels {
  detector: FaceDetector;
  mesh: FaceMesh;
  embedder: FaceEmbedder;
}

let loaded: Promise<FaceModels> | undefined;

async function runner(name: HumanModelName, threads: number): Promise<ModelRunner> {
  const model = await loadOnnxHumanModel(name, { threads });
  return { run: (input, dims) => model.runWithDims(input, dims) };
}

async function recognitionRunner(threads: number): Promise<ModelRunner> {
  const model = await loadFaceRecognitionModel({ threads });
  return { run: (input, dims) => model.runWithDims(input, dims) };
}

/**
 * Loads the three face models once per process, run by onnxruntime: detector and mesh converted
 * from @vladmandic/human's tfjs models, the embedder built from @vladmandic/face-api's weights.
 * `threads` (onnxruntime intra-op threads per run) is taken from the first call.
 */
export function loadFaceModels(opts: { threads?: number } = {}): Promise<FaceModels> {
  const threads = opts.threads ?? 1;
  loaded ??= (async () => {
    const [detector, mesh, embedder] = await Promise.all([runner('blazeface', threads), runner('facemesh', threads), recognitionRunner(threads)]);
    return { detector: new FaceDetector(detector), mesh: new FaceMesh(mesh), embedder: new FaceEmbedder(embedder) };
  })();
  return loaded;
}

/** Resolves once no model is loading (at once if loading never started). */
export async function modelsSettled(): Promise<void> {
  await loaded?.catch(() => undefined);
}
