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

async function runner(name: HumanModelName): Promise<ModelRunner> {
  const model = await loadOnnxHumanModel(name);
  return { run: (input, dims) => model.runWithDims(input, dims) };
}

async function recognitionRunner(): Promise<ModelRunner> {
  const model = await loadFaceRecognitionModel();
  return { run: (input, dims) => model.runWithDims(input, dims) };
}

/**
 * Loads the three face models once per process, run by onnxruntime: detector and mesh converted
 * from @vladmandic/human's tfjs models, the embedder built from @vladmandic/face-api's weights.
 */
export function loadFaceModels(): Promise<FaceModels> {
  loaded ??= (async () => {
    const [detector, mesh, embedder] = await Promise.all([runner('blazeface'), runner('facemesh'), recognitionRunner()]);
    return { detector: new FaceDetector(detector), mesh: new FaceMesh(mesh), embedder: new FaceEmbedder(embedder) };
  })();
  return loaded;
}

/** Resolves once no model is loading (at once if loading never started). */
export async function modelsSettled(): Promise<void> {
  await loaded?.catch(() => undefined);
}
