import { iou, sameFace } from '../vision/geometry.js';
import type { AnalysisConfig } from './config.js';
import { firstEmbedding, lastEmbedding, trackStart, type Track } from './tracker.js';

/** true/false when both appearances are known, undefined when one is missing. */
export function isSamePerson(a: Float32Array | undefined, b: Float32Array | undefined, cfg: AnalysisConfig): boolean | undefined {
  if (!a || !b) return undefined;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s >= cfg.samePersonSimilarity;
}

/** One person's continuous presence: tracks joined across gaps of at most cfg.maxGapMs. */
export interface Presence {
  tracks: Track[];
}

export const presenceStart = (p: Presence): number => trackStart(p.tracks[0]);
export const presenceEnd = (p: Presence): number => p.tracks[p.tracks.length - 1].endMs;

/**
 * Joins tracks into presences: a track that starts at most cfg.maxGapMs after another ended,
 * in the same place and with the same appearance, continues it (the same face_id).
 */
export function joinPresences(tracks: readonly Track[], cfg: AnalysisConfig): Presence[] {
  const presences: Presence[] = [];
  for (const t of [...tracks].sort((a, b) => trackStart(a) - trackStart(b))) {
    const start = trackStart(t);
    const firstBox = t.points[0].sighting.box;
    let best: Presence | undefined;
    let bestOverlap = 0;
    for (const p of presences) {
      const prev = p.tracks[p.tracks.length - 1];
      const gap = start - prev.endMs;
      if (gap < 0 || gap > cfg.maxGapMs) continue;
      const lastBox = prev.points[prev.points.length - 1].sighting.box;
      if (!sameFace(lastBox, firstBox, cfg.samePlaceIou)) continue;
      const overlap = iou(lastBox, firstBox);
      if (best && overlap <= bestOverlap) continue;
      if (isSamePerson(lastEmbedding(prev), firstEmbedding(t), cfg) === false) continue;
      best = p;
      bestOverlap = overlap;
    }
    if (best) best.tracks.push(t);
    else presences.push({ tracks: [t] });
  }
  return presences;
}
