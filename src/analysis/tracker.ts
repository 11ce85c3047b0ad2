import { iou, sameFace } from '../vision/geometry.js';
import type { AnalysisConfig } from './config.js';
import type { FaceSighting, FrameObservation } from './types.js';
import { isSamePerson } from './identity.js';

export interface TrackPoint {
  frame: number;
  timeMs: number;
  sighting: FaceSighting;
}

/** One face followed through consecutive analysed frames without a break. */
export interface Track {
  points: TrackPoint[];
  /** Exclusive end: the time of the first analysed frame without the face, or the video's end. */
  endMs: number;
}

export function trackStart(t: Track): number {
  return t.points[0].timeMs;
}

export function lastEmbedding(t: Track): Float32Array | undefined {
  for (let i = t.points.length - 1; i >= 0; i--) if (t.points[i].sighting.embedding) return t.points[i].sighting.embedding;
  return undefined;
}

export function firstEmbedding(t: Track): Float32Array | undefined {
  return t.points.find((p) => p.sighting.embedding)?.sighting.embedding;
}

/**
 * Links the faces of consecutive analysed frames into tracks by overlap. Across a hard cut a
 * link also needs the same appearance, so a different person in the same place starts a new track.
 */
export function buildTracks(observations: readonly FrameObservation[], videoEndMs: number, cfg: AnalysisConfig): Track[] {
  const done: Track[] = [];
  let active: Track[] = [];
  for (const obs of [...observations].sort((a, b) => a.frame - b.frame)) {
    const pairs: [number, number, number][] = [];
    active.forEach((t, ti) => {
      const last = t.points[t.points.length - 1].sighting;
      obs.faces.forEach((f, fi) => {
        if (!sameFace(last.box, f.box, cfg.samePlaceIou)) return;
        const overlap = iou(last.box, f.box);
        if (obs.cutBefore && isSamePerson(lastEmbedding(t), f.embedding, cfg) === false) return;
        pairs.push([overlap, ti, fi]);
      });
    });
    pairs.sort((a, b) => b[0] - a[0]);
    const usedT = new Set<number>(), usedF = new Set<number>();
    for (const [, ti, fi] of pairs) {
      if (usedT.has(ti) || usedF.has(fi)) continue;
      usedT.add(ti);
      usedF.add(fi);
      active[ti].points.push({ frame: obs.frame, timeMs: obs.timeMs, sighting: obs.faces[fi] });
    }
    const next: Track[] = [];
    active.forEach((t, ti) => {
      if (usedT.has(ti)) next.push(t);
      else done.push({ ...t, endMs: obs.timeMs });
    });
    obs.faces.forEach((f, fi) => {
      if (!usedF.has(fi)) next.push({ points: [{ frame: obs.frame, timeMs: obs.timeMs, sighting: f }], endMs: videoEndMs });
    });
    active = next;
  }
  for (const t of active) done.push({ ...t, endMs: videoEndMs });
  return done.sort((a, b) => trackStart(a) - trackStart(b));
}
