import type { FaceSighting, Keypoints, Point2 } from '../analysis/types.js';
import { mouthInFrame, sharpness } from '../vision/face-features.js';
import { headPose } from '../vision/head-pose.js';
import { mouthCover } from '../vision/mouth-cover.js';
import { mouthMotion, type LumaImage } from '../vision/mouth-motion.js';
import { keypointsOf, lipsOf } from '../vision/face-landmarks.js';
import { meshCropFor, type FaceLandmarks } from '../vision/face-mesh.js';
import { boxCenter, iou, oneFace, scaleBox, squareAround, type Box } from '../vision/geometry.js';
import type { LazyRgbImage } from '../vision/image.js';
import type { FaceModels } from '../vision/models.js';
import type { LookRequest, ModelCalls, Observer } from './stages.js';

/** Two frames' luma planes at analysis size: the one looked at and an earlier decoded frame of the same shot, gapMs before it. */
export interface LumaPair {
  now: LumaImage;
  before: LumaImage;
  gapMs: number;
}

/** How sure the mesh must be that its crop holds a face. */
const MIN_MESH_CONFIDENCE = 0.5;

/**
 * The observer stage on real frames: runs the face models on the analysed (scaled-down) frame
 * and reports sightings in source pixels. `scale` is source pixels per analysed pixel.
 */
export class FaceObserver implements Observer {
  readonly calls: ModelCalls = { detector: 0, mesh: 0, embedder: 0 };

  constructor(
    private readonly models: FaceModels,
    private readonly imageOf: (frame: number) => LazyRgbImage,
    private readonly scale: number,
    /** This frame's luma and an earlier decoded frame's in the same shot, for mouth movement (undefined: not measured). */
    private readonly lumaPair?: (frame: number) => LumaPair | undefined,
  ) {}

  async look(frame: number, req: LookRequest): Promise<FaceSighting[]> {
    const img = this.imageOf(frame);
    const k = 1 / this.scale;
    const found: { sighting: FaceSighting; box: Box }[] = [];
    const taken = (b: Box) => found.some((f) => oneFace(f.box, b));
    const addFrom = async (boxes: readonly Box[]) => {
      if (!boxes.length) return;
      const crops = boxes.map(meshCropFor);
      const meshes = await this.mesh(img, crops);
      // a face that moved since the hint sits off-centre in its crop: look again where the mesh saw it
      const again = meshes.map((m, i) => (m.confidence >= MIN_MESH_CONFIDENCE && !centredIn(m.box, crops[i]) ? meshCropFor(m.box) : undefined));
      const recentred = await this.mesh(img, again.filter((c): c is Box => !!c));
      let r = 0;
      meshes.forEach((m, i) => {
        const crop = again[i];
        const [mesh, used] = crop ? [recentred[r++], crop] : [m, crops[i]];
        if (mesh.confidence < MIN_MESH_CONFIDENCE || !centredIn(mesh.box, used) || taken(mesh.box)) return;
        const sighting = this.sighting(img, mesh);
        const pair = this.lumaPair?.(frame);
        const moved = pair ? mouthMotion(pair.now, pair.before, mesh.points) : NaN;
        if (pair && Number.isFinite(moved)) sighting.mouthMotion = { value: moved, overMs: pair.gapMs };
        found.push({ sighting, box: mesh.box });
      });
    };
    await addFrom(dedupe(req.hints.map((h) => scaleBox(h, k))));
    for (const region of req.detectIn) {
      this.calls.detector++;
      const area = region && clampTo(scaleBox(region, k), img);
      const detections = await this.models.detector.detect(img.ready(area), area);
      await addFrom(detections.map((d) => d.box).filter((b) => !taken(b)));
    }
    const faces = found.map((f) => f.sighting);
    if (req.embed) await this.embedOn(img, faces);
    return faces;
  }

  async embed(frame: number, faces: FaceSighting[]): Promise<void> {
    await this.embedOn(this.imageOf(frame), faces.filter((f) => !f.embedding));
  }

  private async embedOn(img: LazyRgbImage, faces: FaceSighting[]): Promise<void> {
    if (!faces.length) return;
    // the aligned chip may turn with the head: rare enough (the first and last views of a shot) to convert it all
    img.ready();
    this.calls.embedder += faces.length;
    // the descriptor net is fed the face aligned on its 5 keypoints (in pixels of the analysed frame)
    const k = 1 / this.scale;
    const vectors = await this.models.embedder.embedAligned(img, faces.map((f) => f.keypoints.map(([x, y]): Point2 => [x * k, y * k]) as Keypoints));
    faces.forEach((f, i) => (f.embedding = vectors[i]));
  }

  private async mesh(img: LazyRgbImage, crops: readonly Box[]): Promise<FaceLandmarks[]> {
    if (!crops.length) return [];
    this.calls.mesh += crops.length;
    for (const c of crops) img.ready(c);
    return this.models.mesh.run(img, crops);
  }

  private sighting(img: LazyRgbImage, m: FaceLandmarks): FaceSighting {
    const k = this.scale;
    // the mouth's surroundings (mouth-cover.ts) reach below the chin
    img.ready(squareAround(m.box, 2));
    const toSource = (p: Point2): Point2 => [p[0] * k, p[1] * k];
    const pose = headPose(m.points);
    return {
      box: scaleBox(m.box, k),
      confidence: m.confidence,
      yaw: pose.yaw,
      pitch: pose.pitch,
      mouthInFrame: mouthInFrame(m.points, img.width, img.height),
      mouthHidden: mouthCover(img, m.points).hidden,
      sharpness: sharpness(img, m.box),
      keypoints: keypointsOf(m.points).map(toSource) as Keypoints,
      lips: lipsOf(m.points).map(toSource),
    };
  }
}

/** Hint boxes that overlap heavily describe one face: keep one of them. */
function dedupe(boxes: readonly Box[]): Box[] {
  const out: Box[] = [];
  for (const b of boxes) if (!out.some((o) => iou(o, b) > 0.6)) out.push(b);
  return out;
}

function clampTo(b: Box, img: { width: number; height: number }): Box {
  const x = Math.max(0, b.x), y = Math.max(0, b.y);
  return { x, y, width: Math.min(img.width, b.x + b.width) - x, height: Math.min(img.height, b.y + b.height) - y };
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
