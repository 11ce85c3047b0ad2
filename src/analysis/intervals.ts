import type { AnalysisConfig } from './config.js';
import type { Presence } from './identity.js';
import type { TrackPoint } from './tracker.js';
import type { RejectReason, Usability } from './types.js';

/** A stretch of a presence with one state; 'unseen' is a gap between two tracks of the presence. */
export interface StateSpan {
  startMs: number;
  endMs: number;
  state: 'usable' | 'unusable' | 'unseen';
  reason?: Usability['reason'];
}

/** The presence as spans: each analysed point's state holds until the next point (or the track's end). */
export function stateSpans(p: Presence, judge: (pt: TrackPoint) => Usability): StateSpan[] {
  const spans: StateSpan[] = [];
  const push = (span: StateSpan) => {
    if (span.endMs <= span.startMs) return;
    const last = spans[spans.length - 1];
    if (last && last.state === span.state && last.reason === span.reason && last.endMs === span.startMs) last.endMs = span.endMs;
    else spans.push(span);
  };
  p.tracks.forEach((t, ti) => {
    if (ti > 0) push({ startMs: p.tracks[ti - 1].endMs, endMs: t.points[0].timeMs, state: 'unseen' });
    t.points.forEach((pt, i) => {
      const end = i + 1 < t.points.length ? t.points[i + 1].timeMs : t.endMs;
      const u = judge(pt);
      push({ startMs: pt.timeMs, endMs: end, state: u.usable ? 'usable' : 'unusable', reason: u.reason });
    });
  });
  return spans;
}

/**
 * The longest usable stretch: it starts and ends usable, and bridges unusable dips of at most
 * cfg.bridgeDipMs and unseen gaps (already limited to cfg.maxGapMs when the presence was joined).
 */
export function longestUsable(spans: readonly StateSpan[], cfg: AnalysisConfig): { startMs: number; endMs: number } | null {
  let best: { startMs: number; endMs: number } | null = null;
  let i = 0;
  while (i < spans.length) {
    if (spans[i].state !== 'usable') {
      i++;
      continue;
    }
    const startMs = spans[i].startMs;
    let endMs = spans[i].endMs;
    let j = i + 1;
    while (j < spans.length) {
      const s = spans[j];
      if (s.state === 'usable') {
        endMs = s.endMs;
        j++;
        continue;
      }
      // bridge a run of dips/gaps only when usable footage follows it
      let k = j;
      let dipMs = 0;
      while (k < spans.length && spans[k].state !== 'usable') {
        if (spans[k].state === 'unusable') dipMs += spans[k].endMs - spans[k].startMs;
        k++;
      }
      if (k >= spans.length || dipMs > cfg.bridgeDipMs) break;
      j = k;
    }
    if (!best || endMs - startMs > best.endMs - best.startMs) best = { startMs, endMs };
    i = j;
  }
  return best;
}

/** The reason covering most of the presence's unusable time. */
export function dominantReason(spans: readonly StateSpan[]): Exclude<RejectReason, 'too_short'> | undefined {
  const total = new Map<string, number>();
  for (const s of spans) if (s.state === 'unusable' && s.reason) total.set(s.reason, (total.get(s.reason) ?? 0) + s.endMs - s.startMs);
  let best: string | undefined;
  for (const [r, ms] of total) if (!best || ms > total.get(best)!) best = r;
  return best as Exclude<RejectReason, 'too_short'> | undefined;
}
