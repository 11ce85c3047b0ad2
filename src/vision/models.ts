import { FaceDetector } from './face-detector.js';
import { FaceEmbedder } from './face-embedding.js';
import { FaceMesh } from './face-mesh.js';
import type { ModelRunner } from './model-runner.js';
import { loadOnnxHumanModel, type HumanModelName } from './onnx/onnx-models.js';

export interface FaceModels {
  detector: FaceDetector;
  mesh: FaceMesh;
  embedder: FaceEmbedder;
}

let loaded: Promise<FaceModels> | undefined;

async function runner(name: HumanModelName, outputs?: string[]): Promise<ModelRunner> {
  const model = await loadOnnxHumanModel(name, { outputs });
  return { run: (input, dims) => model.runWithDims(input, dims) };
}

/** Loads the three face models once per process (onnxruntime, converted from @vladmandic/human's tfjs models). */
export function loadFaceModels(): Promise<FaceModels> {
  loaded ??= (async () => {
    const [detector, mesh, embedder] = await Promise.all([runner('blazeface'), runner('facemesh'), runner('faceres', [FaceEmbedder.OUTPUT])]);
    return { detector: new FaceDetector(detector), mesh: new FaceMesh(mesh), embedder: new FaceEmbedder(embedder) };
  })();
  return loaded;
}

/** Resolves once no model is loading (at once if loading never started). */
export async function modelsSettled(): Promise<void> {
  await loaded?.catch(() => undefined);
}
