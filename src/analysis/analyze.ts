import { boxCenter } from '../vision/geometry.js';
import type { AnalysisConfig } from './config.js';
import { joinPresences, presenceEnd, presenceStart, type Presence } from './identity.js';
import { dominantReason, longestUsable, stateSpans } from './intervals.js';
import { groupPersons, meanAppearance } from './persons.js';
import { buildTracks, type TrackPoint } from './tracker.js';
import { attributeSpeech, type SpeakingFace } from './speaking.js';
import type { AnalysisResult, AudioSummary, BestView, FaceSighting, FrameObservation, IdentifiedFace, RejectedFace, TimeSpan, VoiceActivity } from './types.js';
import { judgeSighting } from './usability.js';

export interface AnalyzeInput {
  observations: readonly FrameObservation[];
  /** Exclusive end of the video in ms (the last frame's time plus its duration). */
  videoEndMs: number;
  /** What the voice-activity model heard (undefined: the video has no soundtrack). */
  voice?: VoiceActivity;
}

/** From per-frame face sightings to faces with ids and lip-sync intervals (CONTRACT.md §2). */
export function analyzeObservations(input: AnalyzeInput, cfg: AnalysisConfig): AnalysisResult {
  const judge = (pt: TrackPoint) => judgeSighting(pt.sighting, cfg);
  const cuts = input.observations.filter((o) => o.cutBefore).map((o) => o.timeMs);
  const presences = joinPresences(buildTracks(input.observations, input.videoEndMs, cfg), cfg, cuts);
  const accepted: (Omit<IdentifiedFace, 'faceId'> & { x: number })[] = [];
  const rejected: RejectedFace[] = [];
  const persons = groupPersons(
    presences.map((p) => ({
      startMs: presenceStart(p),
      endMs: presenceEnd(p),
      x: boxCenter(points(p)[0].sighting.box)[0],
      appearance: meanAppearance(points(p).map((pt) => pt.sighting.embedding)),
    })),
    cfg,
  );
  for (const [i, p] of presences.entries()) {
    const personId = persons[i];
    const spans = stateSpans(p, judge);
    const interval = longestUsable(spans, cfg);
    const span = { startMs: presenceStart(p), endMs: presenceEnd(p) };
    const timeline = { spans, samples: points(p).map(({ timeMs, sighting: { box, keypoints, lips, mouthMotion } }) => ({ timeMs, box, keypoints, lips, ...(mouthMotion && { mouthMotion }) })) };
    const speaking: TimeSpan[] = [];
    if (!interval) {
      rejected.push({ reason: dominantReason(spans) ?? 'too_short', personId, ...span, best: bestSighting(p, span, () => true), timeline, speaking });
      continue;
    }
    const usableBest = bestSighting(p, interval, (pt) => judge(pt).usable);
    if (interval.endMs - interval.startMs < cfg.minIntervalMs) {
      const presenceLong = span.endMs - span.startMs >= cfg.minIntervalMs;
      const reason = presenceLong ? dominantReason(spans) ?? 'too_short' : 'too_short';
      rejected.push({ reason, personId, ...span, best: usableBest, timeline, speaking });
      continue;
    }
    accepted.push({
      personId,
      presentFromMs: span.startMs,
      presentToMs: span.endMs,
      startMs: interval.startMs,
      endMs: interval.endMs,
      best: usableBest,
      timeline,
      speaking,
      x: boxCenter(firstPointIn(p, interval.startMs).sighting.box)[0],
    });
  }
  accepted.sort((a, b) => a.startMs - b.startMs || a.x - b.x);
  const audio = input.voice ? attributeVoice(input.voice, accepted, rejected, input.videoEndMs) : { present: false, speech: [] };
  return {
    faces: accepted.map(({ x: _x, ...f }, i) => ({ faceId: String(i), ...f })),
    rejected: rejected.sort((a, b) => a.startMs - b.startMs),
    audio,
  };
}

/** Fills every face's speaking spans (over its whole presence) and says when any voice is heard in the video. */
function attributeVoice(voice: VoiceActivity, accepted: Omit<IdentifiedFace, 'faceId'>[], rejected: RejectedFace[], videoEndMs: number): AudioSummary {
  const spans = attributeSpeech(speakingFaces(accepted, rejected), voice);
  [...accepted, ...rejected].forEach((face, i) => face.speaking.push(...spans[i]));
  const speech = voice.speech
    .map((s) => ({ startMs: Math.max(0, Math.round(s.startMs)), endMs: Math.min(videoEndMs, Math.round(s.endMs)) }))
    .filter((s) => s.endMs > s.startMs);
  return { present: true, speech };
}

/** The faces whose voice is looked for, in the order attributeSpeech answers in: accepted ones over their whole presence, then rejected ones. */
export function speakingFaces(
  accepted: readonly Pick<IdentifiedFace, 'presentFromMs' | 'presentToMs' | 'timeline'>[],
  rejected: readonly Pick<RejectedFace, 'startMs' | 'endMs' | 'timeline'>[],
): SpeakingFace[] {
  return [
    ...accepted.map((f) => ({ startMs: f.presentFromMs, endMs: f.presentToMs, samples: f.timeline.samples })),
    ...rejected.map((f) => ({ startMs: f.startMs, endMs: f.endMs, samples: f.timeline.samples })),
  ];
}

function points(p: Presence): TrackPoint[] {
  return p.tracks.flatMap((t) => t.points);
}

function firstPointIn(p: Presence, fromMs: number): TrackPoint {
  return points(p).find((pt) => pt.timeMs >= fromMs) ?? points(p)[0];
}

/**
 * A view at least this fraction as clear as the clearest one makes as good a picture; of those,
 * the one shown soonest after a keyframe is taken, as cutting a picture decodes every frame from
 * the keyframe before it (up to several seconds of full-size frames).
 */
const PICTURE_QUALITY_SLACK = 0.95;

/** The clearest view of the face inside [startMs, endMs) (large, frontal, sharp), or a nearly as clear one that is cheaper to cut. */
function bestSighting(p: Presence, range: { startMs: number; endMs: number }, ok: (pt: TrackPoint) => boolean): BestView {
  const views = points(p)
    .filter((pt) => pt.timeMs >= range.startMs && pt.timeMs < range.endMs && ok(pt))
    .map((pt) => ({ pt, quality: sightingQuality(pt.sighting) }));
  const clearest = views.reduce((most, v) => Math.max(most, v.quality), -Infinity);
  const enough = clearest > 0 ? PICTURE_QUALITY_SLACK * clearest : clearest;
  let best: { pt: TrackPoint; quality: number } | undefined;
  for (const v of views) {
    if (v.quality < enough) continue;
    const cost = v.pt.fromKeyMs ?? 0, bestCost = best?.pt.fromKeyMs ?? 0;
    if (!best || cost < bestCost || (cost === bestCost && v.quality > best.quality)) best = v;
  }
  const pt = best?.pt ?? points(p)[0];
  return { timeMs: pt.timeMs, sighting: pt.sighting, ...(pt.fromKeyMs !== undefined && { fromKeyMs: pt.fromKeyMs }) };
}

function sightingQuality(s: FaceSighting): number {
  const rad = Math.PI / 180;
  return Math.min(s.box.width, s.box.height) * s.confidence * Math.cos(s.yaw * rad) * Math.cos(s.pitch * rad) * Math.min(1, s.sharpness / 100);
}
