import type { AnalysisConfig } from './config.js';
import { cosine } from './identity.js';

/** One face (a continuous presence) as person grouping sees it. */
export interface PersonCandidate {
  /** Presence on screen, ms ([startMs, endMs)). */
  startMs: number;
  endMs: number;
  /** Where it first appeared, horizontally (source pixels): persons first seen together are numbered left to right, as face_ids are. */
  x?: number;
  /** The face's mean appearance (unit length); undefined when none of its sightings was embedded. */
  appearance?: Float32Array;
}

/** The mean of some embeddings, unit length; undefined when there are none. */
export function meanAppearance(embeddings: Iterable<Float32Array | undefined>): Float32Array | undefined {
  let sum: Float32Array | undefined;
  for (const e of embeddings) {
    if (!e) continue;
    sum ??= new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) sum[i] += e[i];
  }
  if (!sum) return undefined;
  let norm = 0;
  for (const v of sum) norm += v * v;
  if (!(norm > 0)) return undefined;
  const k = 1 / Math.sqrt(norm);
  for (let i = 0; i < sum.length; i++) sum[i] *= k;
  return sum;
}

/**
 * Groups faces into persons by appearance: average-linkage agglomerative clustering of the faces'
 * mean appearances, merging while the two closest groups are on average at least
 * cfg.samePersonSimilarity alike. Two faces on screen at the same time are never one person, so
 * groups whose faces overlap in time are not merged; a face without an appearance is a person of
 * its own. Returns each face's person id, "person_0", "person_1", … in order of first appearance
(persons first seen together: left to right).
 */
export function groupPersons(faces: readonly PersonCandidate[], cfg: Pick<AnalysisConfig, 'samePersonSimilarity'>): string[] {
  const n = faces.length;
  // groups[g]: the faces of group g (empty once merged into another); sim and apart over groups
  const groups: number[][] = faces.map((_, i) => [i]);
  const sim: number[][] = faces.map((a, i) =>
    faces.map((b, j) => (i !== j && a.appearance && b.appearance ? cosine(a.appearance, b.appearance) : -Infinity)),
  );
  const apart: boolean[][] = faces.map((a, i) => faces.map((b, j) => i === j || overlap(a, b)));
  for (;;) {
    let best = -Infinity, bi = -1, bj = -1;
    for (let i = 0; i < n; i++) {
      if (!groups[i].length) continue;
      for (let j = i + 1; j < n; j++) {
        if (!groups[j].length || apart[i][j] || sim[i][j] < cfg.samePersonSimilarity) continue;
        if (sim[i][j] > best) [best, bi, bj] = [sim[i][j], i, j];
      }
    }
    if (bi < 0) break;
    // average linkage: the merged group's similarity to k is the size-weighted mean of its parts'
    const [ni, nj] = [groups[bi].length, groups[bj].length];
    for (let k = 0; k < n; k++) {
      if (k === bi || k === bj || !groups[k].length) continue;
      sim[bi][k] = sim[k][bi] = (ni * sim[bi][k] + nj * sim[bj][k]) / (ni + nj);
      apart[bi][k] = apart[k][bi] = apart[bi][k] || apart[bj][k];
    }
    groups[bi].push(...groups[bj]);
    groups[bj] = [];
  }
  // a group's first face: the earliest, and of faces that appear together the leftmost
  const firstFace = (g: number[]) => g.reduce((f, i) => (faces[i].startMs < faces[f].startMs || (faces[i].startMs === faces[f].startMs && (faces[i].x ?? 0) < (faces[f].x ?? 0)) ? i : f));
  const before = (a: number, b: number) => faces[a].startMs - faces[b].startMs || (faces[a].x ?? 0) - (faces[b].x ?? 0) || a - b;
  const ordered = groups.filter((g) => g.length).sort((a, b) => before(firstFace(a), firstFace(b)));
  const ids: string[] = new Array(n);
  ordered.forEach((g, p) => g.forEach((i) => (ids[i] = `person_${p}`)));
  return ids;
}

function overlap(a: PersonCandidate, b: PersonCandidate): boolean {
  return Math.min(a.endMs, b.endMs) > Math.max(a.startMs, b.startMs);
}
