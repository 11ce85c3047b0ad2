import type { FaceSighting, FrameObservation } from '../../src/analysis/types.js';

export const FPS = 30;
export const frameMs = (i: number) => (i * 1000) / FPS;

/** A unit vector standing for one person's appearance. */
export function person(id: number, dims = 16): Float32Array {
  const v = new Float32Array(dims);
  v[id % dims] = 1;
  return v;
}

export function face(x: number, overrides: Partial<FaceSighting> = {}): FaceSighting {
  const y = 100;
  return {
    box: { x, y, width: 150, height: 180 },
    confidence: 0.99,
    yaw: 0,
    pitch: 0,
    mouthInFrame: true,
    mouthHidden: false,
    sharpness: 500,
    keypoints: [[x + 45, y + 60], [x + 105, y + 60], [x + 75, y + 100], [x + 50, y + 135], [x + 100, y + 135]],
    lips: [],
    ...overrides,
  };
}

/** Observations of frames [from, to) every `step` frames, each with the faces `at(frame)` returns. */
export function frames(from: number, to: number, at: (frame: number) => FaceSighting[], step = 1): FrameObservation[] {
  const out: FrameObservation[] = [];
  for (let f = from; f < to; f += step) out.push({ frame: f, timeMs: frameMs(f), cutBefore: false, faces: at(f) });
  return out;
}
