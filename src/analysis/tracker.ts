import { iou, sameFace, type Box } from '../vision/geometry.js';
import type { AnalysisConfig } from './config.js';
import type { FaceSighting, FrameObservation } from './types.js';

export interface TrackPoint {
  frame: number;
  timeMs: number;
  sighting: FaceSighting;
  /** As FrameObservation.fromKeyMs. */
  fromKeyMs?: number;
}

/** One face followed through consecutive analysed frames of one shot without a break. */
export interface Track {
  points: TrackPoint[];
  /** Exclusive end: the time of the first analysed frame without the face, or the video's end. */
  endMs: number;
}

export function trackStart(t: Track): number {
  return t.points[0].timeMs;
}

/** Embeddings to average at each end of a track: one view can be a blink, a blur or a half-turn. */
const APPEARANCE_SAMPLES = 3;

/**
 * The face's appearance at the start or the end of a track: the mean of its first (or last) few
 * embeddings, unit length. Undefined when no point of the track was embedded.
 */
export function appearance(t: Track, end: 'start' | 'end'): Float32Array | undefined {
  const pts = end === 'start' ? t.points : [...t.points].reverse();
  let sum: Float32Array | undefined;
  let n = 0;
  for (const p of pts) {
    const e = p.sighting.embedding;
    if (!e) continue;
    sum ??= new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) sum[i] += e[i];
    if (++n === APPEARANCE_SAMPLES) break;
  }
  if (!sum) return undefined;
  let norm = 0;
  for (const v of sum) norm += v * v;
  const k = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < sum.length; i++) sum[i] *= k;
  return sum;
}

/** A face does not grow or shrink by half between two analysed frames: a box that did is someone else (a face behind, passing). */
function similarSize(a: Box, b: Box): boolean {
  const sa = Math.max(a.width, a.height), sb = Math.max(b.width, b.height);
  return Math.max(sa, sb) <= 1.5 * Math.min(sa, sb);
}

/**
 * Links the faces of consecutive analysed frames of one shot into tracks by overlap. A hard cut
 * ends every track: whether a face after the cut is the one before it is a question of
 * appearance, which identity.ts answers with several views from each side.
 */
export function buildTracks(observations: readonly FrameObservation[], videoEndMs: number, cfg: AnalysisConfig): Track[] {
  const done: Track[] = [];
  let active: Track[] = [];
  for (const obs of [...observations].sort((a, b) => a.frame - b.frame)) {
    if (obs.cutBefore) {
      for (const t of active) done.push({ ...t, endMs: obs.timeMs });
      active = [];
    }
    const pairs: [number, number, number][] = [];
    active.forEach((t, ti) => {
      const last = t.points[t.points.length - 1].sighting;
      obs.faces.forEach((f, fi) => {
        if (sameFace(last.box, f.box, cfg.samePlaceIou) && similarSize(last.box, f.box)) pairs.push([iou(last.box, f.box), ti, fi]);
      });
    });
    pairs.sort((a, b) => b[0] - a[0]);
    const usedT = new Set<number>(), usedF = new Set<number>();
    for (const [, ti, fi] of pairs) {
      if (usedT.has(ti) || usedF.has(fi)) continue;
      usedT.add(ti);
      usedF.add(fi);
      active[ti].points.push(pointOf(obs, obs.faces[fi]));
    }
    const next: Track[] = [];
    active.forEach((t, ti) => {
      if (usedT.has(ti)) next.push(t);
      else done.push({ ...t, endMs: obs.timeMs });
    });
    obs.faces.forEach((f, fi) => {
      if (!usedF.has(fi)) next.push({ points: [pointOf(obs, f)], endMs: videoEndMs });
    });
    active = next;
  }
  for (const t of active) done.push({ ...t, endMs: videoEndMs });
  return done.sort((a, b) => trackStart(a) - trackStart(b));
}

/** A sighting as a track point; the frame's distance from its keyframe comes along (a track's first point is often on the keyframe of a shot: its picture is the cheapest to cut). */
function pointOf(obs: FrameObservation, sighting: FaceSighting): TrackPoint {
  return { frame: obs.frame, timeMs: obs.timeMs, sighting, ...(obs.fromKeyMs !== undefined && { fromKeyMs: obs.fromKeyMs }) };
}
