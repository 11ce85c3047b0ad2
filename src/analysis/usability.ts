import type { AnalysisConfig } from './config.js';
import type { FaceSighting, Usability } from './types.js';

/** Whether one sighting can carry lip-sync (CONTRACT.md §2); the first rule broken is the reason. */
export function judgeSighting(s: FaceSighting, cfg: AnalysisConfig): Usability {
  if (Math.min(s.box.width, s.box.height) < cfg.minFaceSidePx) return { usable: false, reason: 'too_small' };
  // written so an unknown pose (NaN) is not within the limits
  if (!(Math.abs(s.yaw) <= cfg.maxYawDeg && Math.abs(s.pitch) <= cfg.maxPitchDeg)) return { usable: false, reason: 'turned_away' };
  if (!s.mouthInFrame) return { usable: false, reason: 'mouth_out_of_frame' };
  if (s.mouthHidden) return { usable: false, reason: 'mouth_hidden' };
  if (s.sharpness < cfg.minSharpness) return { usable: false, reason: 'blurry' };
  return { usable: true };
}
