/** Thresholds of CONTRACT.md §2, all configurable; defaults are the contract's. */
export interface AnalysisConfig {
  /** Shorter side of the face box in source pixels. */
  minFaceSidePx: number;
  maxYawDeg: number;
  maxPitchDeg: number;
  /** Below this sharpness (Laplacian variance of the face at 64×64) the face is badly blurred. */
  minSharpness: number;
  /** Unusable dips up to this long inside a usable stretch are bridged. */
  bridgeDipMs: number;
  /** Unseen longer than this, a face returns with a new id. */
  maxGapMs: number;
  /** The lip-sync minimum: shorter intervals are rejected. */
  minIntervalMs: number;
  /** Cosine similarity at or above which two embeddings are the same person. */
  samePersonSimilarity: number;
  /** Two boxes overlapping at least this much (IoU) are the same place. */
  samePlaceIou: number;
}

export const DEFAULT_ANALYSIS_CONFIG: AnalysisConfig = {
  minFaceSidePx: 64,
  maxYawDeg: 45,
  maxPitchDeg: 30,
  minSharpness: 20,
  bridgeDipMs: 500,
  maxGapMs: 1000,
  minIntervalMs: 2000,
  samePersonSimilarity: 0.95,
  samePlaceIou: 0.3,
};
