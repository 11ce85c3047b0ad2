import { FaceDetector } from './face-detector.js';
import { FaceEmbedder } from './face-embedding.js';
import { FaceMesh } from './face-mesh.js';

export interface FaceModels {
  detector: FaceDetector;
  mesh: FaceMesh;
  embedder: FaceEmbedder;
}

let loaded: Promise<FaceModels> | undefined;

/** Loads the three face models once per process. */
export function loadFaceModels(): Promise<FaceModels> {
  loaded ??= (async () => {
    const [detector, mesh, embedder] = await Promise.all([FaceDetector.load(), FaceMesh.load(), FaceEmbedder.load()]);
    return { detector, mesh, embedder };
  })();
  return loaded;
}
