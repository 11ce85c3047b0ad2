import { nearestPairs, oneFace, sameFace, type Box } from '../vision/geometry.js';
import type { FaceSighting, FrameObservation } from './stages.js';

/** Every analysed frame so far, by frame index. */
export class ObservationStore {
  private readonly byFrame = new Map<number, FrameObservation>();

  set(obs: FrameObservation): void {
    this.byFrame.set(obs.frame, obs);
  }

  has(frame: number): boolean {
    return this.byFrame.has(frame);
  }

  get(frame: number): FrameObservation | undefined {
    return this.byFrame.get(frame);
  }

  get size(): number {
    return this.byFrame.size;
  }

  /** The analysed frames in [from, to], in order. */
  between(from: number, to: number): FrameObservation[] {
    return [...this.byFrame.values()].filter((o) => o.frame >= from && o.frame <= to).sort((a, b) => a.frame - b.frame);
  }

  all(): FrameObservation[] {
    return this.between(-Infinity, Infinity);
  }
}

export interface RefinerPorts {
  store: ObservationStore;
  /** Analyses a frame with the mesh at these hints only, and records it in the store. */
  lookAt(frame: number, hints: readonly Box[]): Promise<FrameObservation>;
  /** Finds the face at `hint` on a frame (mesh only), without recording anything. */
  seenAt(frame: number, hint: Box): Promise<FaceSighting[]>;
  usable(s: FaceSighting): boolean;
}

/**
 * The refiner stage: wherever two analysed frames disagree (a face in one only, or usable in one
 * only), it bisects the frames between them until every change sits on two adjacent frames, so
 * boundaries are exact to the frame; and a face the detector finds late is traced back to the
 * frame it appeared on.
 */
export class Refiner {
  constructor(private readonly ports: RefinerPorts) {}

  /** Bisects between two analysed frames until every change between them sits on adjacent frames. */
  async between(a: FrameObservation, b: FrameObservation): Promise<void> {
    if (b.frame - a.frame <= 1 || !statesDiffer(a.faces, b.faces, this.ports.usable)) return;
    const frame = (a.frame + b.frame) >> 1;
    const mid = await this.ports.lookAt(frame, interpolatedHints(a, b, frame));
    await this.between(a, mid);
    await this.between(mid, b);
  }

  /** Re-checks every pair of neighbouring analysed frames in [from, to]. */
  async range(from: number, to: number): Promise<void> {
    const frames = this.ports.store.between(from, to);
    for (let i = 1; i < frames.length; i++) await this.between(frames[i - 1], frames[i]);
  }

  /**
   * A face the detector just found at `obs`, which was not there at `notBefore` (the last time
   * that region was searched, or the shot's start): pins down the frame it appeared on by
   * bisection, and adds it to the analysed frames since.
   */
  async backfill(face: FaceSighting, obs: FrameObservation, notBefore: number): Promise<void> {
    const { store, seenAt, lookAt } = this.ports;
    let lo = notBefore;
    let hi = obs.frame;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((await seenAt(mid, face.box)).length) hi = mid;
      else lo = mid;
    }
    if (hi === obs.frame) return;
    if (!store.has(hi)) {
      const before = store.between(-Infinity, hi - 1).pop();
      await lookAt(hi, [...(before?.faces.map((f) => f.box) ?? []), face.box]);
    }
    for (const o of store.between(hi, obs.frame - 1)) {
      if (o.faces.some((f) => oneFace(f.box, face.box))) continue;
      o.faces.push(...(await seenAt(o.frame, face.box)).filter((f) => !o.faces.some((g) => oneFace(g.box, f.box))));
    }
  }
}

/**
 * Hints for a frame between two analysed ones: a face seen at both is expected on the line
 * between its two places (it may be walking); one seen at only one of them, where it was.
 */
export function interpolatedHints(a: FrameObservation, b: FrameObservation, frame: number): Box[] {
  const t = (frame - a.frame) / (b.frame - a.frame);
  const pairs = nearestPairs(a.faces.map((f) => f.box), b.faces.map((f) => f.box));
  const hints = pairs.map(([i, j]) => {
    const p = a.faces[i].box, q = b.faces[j].box;
    return { x: p.x + (q.x - p.x) * t, y: p.y + (q.y - p.y) * t, width: p.width + (q.width - p.width) * t, height: p.height + (q.height - p.height) * t };
  });
  a.faces.forEach((f, i) => pairs.some(([k]) => k === i) || hints.push(f.box));
  b.faces.forEach((f, j) => pairs.some(([, k]) => k === j) || hints.push(f.box));
  return hints;
}

/**
 * Whether the frames between two analysed ones need a look: a face is in one of them only, is
 * usable in one only, or moved so far that the analysis core could not link its two places.
 */
export function statesDiffer(a: readonly FaceSighting[], b: readonly FaceSighting[], usable: (s: FaceSighting) => boolean): boolean {
  if (a.length !== b.length) return true;
  const pairs = nearestPairs(a.map((f) => f.box), b.map((f) => f.box));
  if (pairs.length !== a.length) return true;
  return pairs.some(([i, j]) => usable(a[i]) !== usable(b[j]) || !sameFace(a[i].box, b[j].box));
}
