// The typed data that flows between the analysis stages (analyze-video.ts wires them):
//   decode (frames + audio) → scheduler (which frame gets which model) → observer (detector, mesh,
//   embedder) → tracker (where each face will be) → refiner (bisection) → the pure analysis core.
import type { FaceSighting, FrameObservation } from '../analysis/types.js';
import type { Box } from '../vision/geometry.js';

export type { FaceSighting, FrameObservation };

/** A decoded frame as the stages see it; its pixels stay with the decoder's ring. */
export interface FrameMeta {
  index: number;
  timeMs: number;
  /** A hard cut lies between the previous frame and this one. */
  cutBefore: boolean;
  /** How long after the last keyframe this frame is shown (what a decoder seeking to it decodes on the way), when known. */
  fromKeyMs?: number;
  /** A 32×18 grid of the picture's mean luma (scene-cut.ts `thumbnail`), when the decoder made one. */
  thumb?: Float32Array;
}

/** What to run on one frame. Boxes and regions are in source pixels. */
export interface LookRequest {
  /** Where faces are expected: the mesh is run there first (cheap tracking). */
  hints: readonly Box[];
  /** Regions the detector searches (undefined = the whole frame), for faces the hints miss. */
  detectIn: readonly (Box | undefined)[];
  /** Compute an appearance embedding for every face found. */
  embed: boolean;
}

/** The observer stage: the models, behind the frame index (a fake one drives the other stages in tests). */
export interface Observer {
  /** Every face found on the frame, in source pixels. */
  look(frame: number, req: LookRequest): Promise<FaceSighting[]>;
  /** Adds embeddings to sightings made earlier on the same frame (those that have none). */
  embed(frame: number, faces: FaceSighting[]): Promise<void>;
}

export interface ModelCalls {
  detector: number;
  mesh: number;
  embedder: number;
}
