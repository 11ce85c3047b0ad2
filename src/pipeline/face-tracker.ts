import { boxCenter, nearestPairs, sameFace, type Box } from '../vision/geometry.js';
import type { FrameObservation } from './stages.js';

interface Followed {
  box: Box;
  timeMs: number;
  /** Centre velocity in px/ms and relative size change per ms, from the last two sightings. */
  vx: number;
  vy: number;
  grow: number;
}

/** A prediction further ahead than this is not trusted to extrapolate (ms). */
const MAX_LOOKAHEAD_MS = 800;

/**
 * The tracker stage: follows each face from one analysed frame to the next and predicts where it
 * will be, so the mesh is pointed at a walking or turning face rather than at where it was.
 * A face expected but not seen (`missing`) is searched for in a window around its predicted
 * place before the next full detection (`searchWindow`).
 */
export class FaceTracker {
  private followed: Followed[] = [];

  /** Forget every face (a hard cut: the new shot shares nothing with the old one). */
  reset(): void {
    this.followed = [];
  }

  /** Where each followed face is expected at `timeMs`. */
  predict(timeMs: number): Box[] {
    return this.followed.map((f) => predictBox(f, timeMs));
  }

  /** Takes in the faces seen at `obs`, matched to the predictions made for its time; faces not seen are dropped. */
  update(obs: FrameObservation): void {
    const pairs = nearestPairs(this.predict(obs.timeMs), obs.faces.map((s) => s.box));
    const used = new Set(pairs.map(([, j]) => j));
    const next = pairs.map(([i, j]) => moved(this.followed[i], obs.faces[j].box, obs.timeMs));
    obs.faces.forEach((s, j) => {
      if (!used.has(j)) next.push({ box: s.box, timeMs: obs.timeMs, vx: 0, vy: 0, grow: 0 });
    });
    this.followed = next;
  }
}

/** The predicted boxes no sighting answers to: faces lost since the last analysed frame. */
export function missing(predicted: readonly Box[], faces: readonly { box: Box }[]): Box[] {
  return predicted.filter((p) => !faces.some((f) => sameFace(p, f.box)));
}

function predictBox(f: Followed, timeMs: number): Box {
  const dt = Math.min(MAX_LOOKAHEAD_MS, Math.max(0, timeMs - f.timeMs));
  const [cx, cy] = boxCenter(f.box);
  const k = Math.max(0.5, Math.min(2, 1 + f.grow * dt));
  const w = f.box.width * k, h = f.box.height * k;
  return { x: cx + f.vx * dt - w / 2, y: cy + f.vy * dt - h / 2, width: w, height: h };
}

function moved(f: Followed, box: Box, timeMs: number): Followed {
  const dt = timeMs - f.timeMs;
  if (dt <= 0) return { ...f, box };
  const [ax, ay] = boxCenter(f.box), [bx, by] = boxCenter(box);
  return { box, timeMs, vx: (bx - ax) / dt, vy: (by - ay) / dt, grow: (box.width / f.box.width - 1) / dt };
}

/** The region to search for a lost face: a square around its predicted place, three faces wide, inside the frame. */
export function searchWindow(predicted: Box, frameWidth: number, frameHeight: number): Box {
  const [cx, cy] = boxCenter(predicted);
  const side = Math.min(frameWidth, frameHeight, Math.max(predicted.width, predicted.height) * 3);
  const x = Math.min(Math.max(0, cx - side / 2), frameWidth - side);
  const y = Math.min(Math.max(0, cy - side / 2), frameHeight - side);
  return { x, y, width: side, height: side };
}
