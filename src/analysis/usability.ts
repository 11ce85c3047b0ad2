import type { AnalysisConfig } from './config.js';
import type { FaceSighting, Usability } from './types.js';

/**
 * Whether one sighting can carry lip-sync. `sourceScale` converts analysed-frame pixels to
 * source pixels (the size rule is in source pixels).
 */
export function judgeSighting(s: FaceSighting, cfg: AnalysisConfig, sourceScale: number): Usability {
  if (Math.min(s.box.width, s.box.height) * sourceScale < cfg.minFaceSidePx) return { usable: false, reason: 'too_small' };
  if (Math.abs(s.yaw) > cfg.maxYawDeg || Math.abs(s.pitch) > cfg.maxPitchDeg) return { usable: false, reason: 'turned_away' };
  if (!s.mouthInFrame) return { usable: false, reason: 'mouth_out_of_frame' };
  if (s.sharpness < cfg.minSharpness) return { usable: false, reason: 'blurry' };
  return { usable: true };
}
