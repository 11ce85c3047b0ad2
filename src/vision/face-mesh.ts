import type { RgbImage } from './image.js';
import type { ModelRunner } from './model-runner.js';
import { cropsInto } from './preprocess.js';
import { boxOfPoints, squareAround, type Box, type Point3 } from './geometry.js';

/** 468 MediaPipe FaceMesh landmarks of one face, in pixels of the analysed image (z in the same scale). */
export interface FaceLandmarks {
  points: Point3[];
  /** The model's confidence that the crop holds a face (0..1). */
  confidence: number;
  /** Tight box around the landmarks. */
  box: Box;
}

const INPUT = 192;

/** How much larger than a face's tight box the mesh crop is (as the model was trained). */
export const MESH_CROP_FACTOR = 1.5;

/** MediaPipe FaceMesh (192×192) as shipped by @vladmandic/human. */
export class FaceMesh {
  private input = new Float32Array(0);

  constructor(private readonly model: ModelRunner) {}

  /**
   * Runs the mesh on square crops (pixels of `image`, typically a face box enlarged by
   * MESH_CROP_FACTOR). One result per crop, in the same order.
   */
  async run(image: RgbImage, crops: readonly Box[]): Promise<FaceLandmarks[]> {
    if (crops.length === 0) return [];
    const size = crops.length * INPUT * INPUT * 3;
    if (this.input.length < size) this.input = new Float32Array(size);
    const input = this.input.subarray(0, size);
    cropsInto(image, crops, INPUT, input, { scale: 1 / 255, offset: 0 });
    const outs = await this.model.run(input, [crops.length, INPUT, INPUT, 3]);
    const flags = outs.find((o) => o.dims[1] === 1)!.data;
    const coords = outs.find((o) => o.dims[1] === 1404)!.data;
    return crops.map((crop, i) => {
      const sx = crop.width / INPUT, sy = crop.height / INPUT;
      const points: Point3[] = [];
      for (let p = 0; p < 468; p++) {
        const o = i * 1404 + p * 3;
        points.push([crop.x + coords[o] * sx, crop.y + coords[o + 1] * sy, coords[o + 2] * sx]);
      }
      return { points, confidence: flags[i], box: boxOfPoints(points) };
    });
  }
}

/** The crop to run the mesh on for a face whose tight box is `box`. */
export function meshCropFor(box: Box): Box {
  return squareAround(box, MESH_CROP_FACTOR);
}
