import type { FaceSighting } from '../analysis/types.js';
import { headPose, mouthInFrame, sharpness } from '../vision/face-features.js';
import { meshCropFor } from '../vision/face-mesh.js';
import { boxCenter, iou, sameFace, squareAround, type Box } from '../vision/geometry.js';
import type { RgbImage } from '../vision/image.js';
import type { FaceModels } from '../vision/models.js';

export interface ObserveOptions {
  /** Where faces were nearby in time: the mesh is run there first (cheap tracking). */
  hints: readonly Box[];
  /** Run the detector on these regions (undefined = the whole frame) to find faces the hints miss. */
  detectIn: readonly (Box | undefined)[];
  /** Compute appearance embeddings for every face found. */
  embed: boolean;
}

/** How sure the mesh must be that its crop holds a face. */
const MIN_MESH_CONFIDENCE = 0.5;
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
    const found: FaceSighting[] = [];
    const addFrom = async (boxes: readonly Box[]) => {
      if (!boxes.length) return;
      this.calls.mesh += boxes.length;
      const crops = boxes.map(meshCropFor);
      const meshes = await this.models.mesh.run(img, crops);
      meshes.forEach((m, i) => {
        if (m.confidence < MIN_MESH_CONFIDENCE || !centredIn(m.box, crops[i])) return;
        if (found.some((f) => sameFace(f.box, m.box))) return;
        const pose = headPose(m.points);
        found.push({
          box: m.box,
          confidence: m.confidence,
          yaw: pose.yaw,
          pitch: pose.pitch,
          mouthInFrame: mouthInFrame(m.points, img.width, img.height),
          sharpness: sharpness(img, m.box),
        });
      });
    };
    await addFrom(dedupe(opts.hints));
    for (const region of opts.detectIn) {
      this.calls.detector++;
      const detections = await this.models.detector.detect(img, region);
      await addFrom(detections.map((d) => d.box).filter((b) => !found.some((f) => sameFace(f.box, b))));
    }
    if (opts.embed && found.length) {
      this.calls.embedder += found.length;
      const vectors = await this.models.embedder.embed(img, found.map((f) => squareAround(f.box, EMBED_CROP_FACTOR)));
      found.forEach((f, i) => (f.embedding = vectors[i]));
    }
    return found;
  }

  /** Adds embeddings to sightings made earlier on this same frame. */
  async embedInto(img: RgbImage, faces: FaceSighting[]): Promise<void> {
    const missing = faces.filter((f) => !f.embedding);
    if (!missing.length) return;
    this.calls.embedder += missing.length;
    const vectors = await this.models.embedder.embed(img, missing.map((f) => squareAround(f.box, EMBED_CROP_FACTOR)));
    missing.forEach((f, i) => (f.embedding = vectors[i]));
  }
}

/** Hint boxes that overlap heavily describe one face: keep one of them. */
function dedupe(boxes: readonly Box[]): Box[] {
  const out: Box[] = [];
  for (const b of boxes) if (!out.some((o) => iou(o, b) > 0.6)) out.push(b);
  return out;
}

/**
 * Whether the mesh found the face it was pointed at: a face framed by the crop sits near its
 * centre at about 1/1.5 of its size. A mesh that latched onto the edge of another face, or onto
 * part of one, lands off-centre or at the wrong size.
 */
function centredIn(face: Box, crop: Box): boolean {
  const [fx, fy] = boxCenter(face), [cx, cy] = boxCenter(crop);
  const side = crop.width;
  const size = Math.max(face.width, face.height) / side;
  return Math.abs(fx - cx) <= 0.2 * side && Math.abs(fy - cy) <= 0.2 * side && size >= 0.35 && size <= 1.05;
}
