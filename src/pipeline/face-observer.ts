import type { FaceSighting } from '../analysis/types.js';
import { headPose, mouthInFrame, sharpness } from '../vision/face-features.js';
import { meshCropFor } from '../vision/face-mesh.js';
import { iou, squareAround, type Box } from '../vision/geometry.js';
import { imageTensor, type RgbImage } from '../vision/image.js';
import type { FaceModels } from '../vision/models.js';

export interface ObserveOptions {
  /** Where faces were nearby in time: the mesh is run there first (cheap tracking). */
  hints: readonly Box[];
  /** Also run the detector to find faces the hints do not cover. */
  detect: boolean;
  /** Compute appearance embeddings for every face found. */
  embed: boolean;
}

/** How sure the mesh must be that its crop holds a face. */
const MIN_MESH_CONFIDENCE = 0.5;
/** Two sightings overlapping more than this are one face. */
const SAME_FACE_IOU = 0.4;
/** Embedding crop: the landmarks' box enlarged a little, as the descriptor net expects. */
const EMBED_CROP_FACTOR = 1.3;

export interface ModelCalls {
  detector: number;
  mesh: number;
  embedder: number;
}

/** Runs the face models on one frame and turns their outputs into sightings. */
export class FaceObserver {
  readonly calls: ModelCalls = { detector: 0, mesh: 0, embedder: 0 };

  constructor(private readonly models: FaceModels) {}

  async observe(img: RgbImage, opts: ObserveOptions): Promise<FaceSighting[]> {
    const tensor = imageTensor(img);
    try {
      const found: FaceSighting[] = [];
      const addFrom = async (boxes: readonly Box[]) => {
        if (!boxes.length) return;
        this.calls.mesh += boxes.length;
        const meshes = await this.models.mesh.run(tensor, boxes.map(meshCropFor));
        for (const m of meshes) {
          if (m.confidence < MIN_MESH_CONFIDENCE) continue;
          if (found.some((f) => iou(f.box, m.box) > SAME_FACE_IOU)) continue;
          const pose = headPose(m.points);
          found.push({
            box: m.box,
            confidence: m.confidence,
            yaw: pose.yaw,
            pitch: pose.pitch,
            mouthInFrame: mouthInFrame(m.points, img.width, img.height),
            sharpness: sharpness(img, m.box),
          });
        }
      };
      await addFrom(dedupe(opts.hints));
      if (opts.detect) {
        this.calls.detector++;
        const detections = await this.models.detector.detect(tensor);
        await addFrom(detections.map((d) => d.box).filter((b) => !found.some((f) => iou(f.box, b) > 0.25)));
      }
      if (opts.embed && found.length) {
        this.calls.embedder += found.length;
        const vectors = await this.models.embedder.embed(tensor, found.map((f) => squareAround(f.box, EMBED_CROP_FACTOR)));
        found.forEach((f, i) => (f.embedding = vectors[i]));
      }
      return found;
    } finally {
      tensor.dispose();
    }
  }

  /** Adds embeddings to sightings made earlier on this same frame. */
  async embedInto(img: RgbImage, faces: FaceSighting[]): Promise<void> {
    const missing = faces.filter((f) => !f.embedding);
    if (!missing.length) return;
    const tensor = imageTensor(img);
    try {
      this.calls.embedder += missing.length;
      const vectors = await this.models.embedder.embed(tensor, missing.map((f) => squareAround(f.box, EMBED_CROP_FACTOR)));
      missing.forEach((f, i) => (f.embedding = vectors[i]));
    } finally {
      tensor.dispose();
    }
  }
}

/** Hint boxes that overlap heavily describe one face: keep one of them. */
function dedupe(boxes: readonly Box[]): Box[] {
  const out: Box[] = [];
  for (const b of boxes) if (!out.some((o) => iou(o, b) > 0.6)) out.push(b);
  return out;
}
