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
 * How far back "the place a face was" reaches: a track's last measurements can be the least sure
 * (the mesh sliding off a face that a hand or a microphone crosses, just before it is lost), so
 * a returning face is compared with every place of the track's last half second.
 */
const RECENT_PLACE_MS = 500;

function recentBoxes(t: Track) {
  const last = t.points[t.points.length - 1].timeMs;
  return t.points.filter((p) => p.timeMs >= last - RECENT_PLACE_MS).map((p) => p.sighting.box);
}

/**
 * Joins tracks into presences (one face_id each): a track that starts at most cfg.maxGapMs after
 * another ended (0 at a hard cut), in the same place (where it was in its last half second),
 * continues it. Across a hard cut (`cutsMs`: times of the first frames of shots) the place is
 * no evidence of who it is, so there the appearances — several views averaged on each side —
 * must not say it is someone else. Within one shot a face lost for a moment (a hand, a
 * microphone, a fast turn) is the same face, whatever a view half hidden looks like.
 */
export function joinPresences(tracks: readonly Track[], cfg: AnalysisConfig, cutsMs: readonly number[] = []): Presence[] {
  // a cut in (after, upTo]: the frames on its two sides are different shots
  const cutBetween = (after: number, upTo: number) => cutsMs.some((c) => c > after && c <= upTo);
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
      const places = recentBoxes(prev).filter((b) => sameFace(b, firstBox, cfg.samePlaceIou));
      if (!places.length) continue;
      const overlap = Math.max(...places.map((b) => iou(b, firstBox)));
      if (overlap <= bestOverlap) continue;
      const lastSeen = prev.points[prev.points.length - 1].timeMs;
      if (cutBetween(lastSeen, start) && isSamePerson(appearance(prev, 'end'), appearance(t, 'start'), cfg) === false) continue;
      best = p;
      bestOverlap = overlap;
    }
    if (best) best.tracks.push(t);
    else presences.push({ tracks: [t] });
  }
  return presences;
}
