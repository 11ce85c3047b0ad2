import { iou, sameFace } from '../vision/geometry.js';
import type { AnalysisConfig } from './config.js';
import { appearance, trackStart, type Track } from './tracker.js';

/** Cosine similarity of two unit vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** true/false when both appearances are known, undefined when one is missing. */
export function isSamePerson(a: Float32Array | undefined, b: Float32Array | undefined, cfg: AnalysisConfig): boolean | undefined {
  if (!a || !b) return undefined;
  return cosine(a, b) >= cfg.samePersonSimilarity;
}

/** One person's continuous presence: tracks joined across cuts and gaps of at most cfg.maxGapMs. */
export interface Presence {
  tracks: Track[];
}

export const presenceStart = (p: Presence): number => trackStart(p.tracks[0]);
export const presenceEnd = (p: Presence): number => p.tracks[p.tracks.length - 1].endMs;

/**
 * Joins tracks into presences (one face_id each): a track that starts at most cfg.maxGapMs after
 * another ended (0 at a hard cut), in the same place, continues it unless their appearances —
 * several views averaged on each side — say it is someone else.
 */
export function joinPresences(tracks: readonly Track[], cfg: AnalysisConfig): Presence[] {
  const presences: Presence[] = [];
  for (const t of [...tracks].sort((a, b) => trackStart(a) - trackStart(b))) {
    const start = trackStart(t);
    const firstBox = t.points[0].sighting.box;
    let best: Presence | undefined;
    let bestOverlap = -1;
    for (const p of presences) {
      const prev = p.tracks[p.tracks.length - 1];
      const gap = start - prev.endMs;
      if (gap < 0 || gap > cfg.maxGapMs) continue;
      const lastBox = prev.points[prev.points.length - 1].sighting.box;
      if (!sameFace(lastBox, firstBox, cfg.samePlaceIou)) continue;
      const overlap = iou(lastBox, firstBox);
      if (overlap <= bestOverlap) continue;
      if (isSamePerson(appearance(prev, 'end'), appearance(t, 'start'), cfg) === false) continue;
      best = p;
      bestOverlap = overlap;
    }
    if (best) best.tracks.push(t);
    else presences.push({ tracks: [t] });
  }
  return presences;
}
