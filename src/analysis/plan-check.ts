/**
 * The lip-sync plan check (issue 14): would the lip-sync step that follows identify-face accept a
 * `face_choose` against a session? Kling's advanced lip-sync takes, per chosen face, a crop of the
 * audio (`sound_start_time`..`sound_end_time`, ms on the audio's clock) inserted into the video at
 * `sound_insert_time` (ms on the video's clock). Its rules (CONTRACT.md §2b): the audio is 2–60 s
 * long; the crop is at least 2 s; the crop ends no later than the audio; the inserted span lies
 * inside the video; and it overlaps the face's usable interval by at least 2 s.
 * Pure: no I/O, every time an integer number of milliseconds.
 */

export interface PlanLimits {
  minAudioMs: number;
  maxAudioMs: number;
  minCroppedMs: number;
  minOverlapMs: number;
}

export const DEFAULT_PLAN_LIMITS: Readonly<PlanLimits> = Object.freeze({
  minAudioMs: 2_000,
  maxAudioMs: 60_000,
  minCroppedMs: 2_000,
  minOverlapMs: 2_000,
});

/** One broken rule: a contract-style code, a stable rule name and a message naming the value and the limit. */
export const PlanRule = {
  AudioDuration: { code: '014001501', rule: 'audio_duration_out_of_range' },
  CroppedTooShort: { code: '014001502', rule: 'cropped_audio_too_short' },
  CropPastAudioEnd: { code: '014001503', rule: 'crop_past_audio_end' },
  InsertOutsideVideo: { code: '014001504', rule: 'insert_outside_video' },
  OverlapTooShort: { code: '014001505', rule: 'face_overlap_too_short' },
  FaceUnknown: { code: '014001506', rule: 'face_id_unknown' },
} as const;

export type PlanRuleName = (typeof PlanRule)[keyof typeof PlanRule]['rule'];

export interface PlanProblem {
  code: string;
  rule: PlanRuleName;
  message: string;
}

/** One entry of Kling's `face_choose` (the fields the rules read). */
export interface FaceChoice {
  face_id: string;
  sound_start_time: number;
  sound_end_time: number;
  sound_insert_time: number;
}

/** What the session knows: the video's length and each face's usable interval. */
export interface PlanSession {
  videoDurationMs: number;
  faces: ReadonlyArray<{ face_id: string; start_time: number; end_time: number }>;
}

export interface Span {
  start_time: number;
  end_time: number;
}

export interface ChoiceCheck {
  face_id: string;
  accepted: boolean;
  audio_duration_ms: number;
  /** sound_end_time - sound_start_time. */
  cropped_ms: number;
  /** Where the crop lands in the video: [sound_insert_time, sound_insert_time + cropped_ms). */
  inserted: Span;
  /** The face's usable interval in the session; null for an unknown face_id. */
  face: Span | null;
  /** How long the inserted span overlaps the face's interval; null for an unknown face_id. */
  overlap_ms: number | null;
  problems: PlanProblem[];
  /** Every sound_insert_time at which this crop lies inside the video and overlaps the face by the minimum; null when there is none. */
  insert_time_range: { earliest: number; latest: number } | null;
  /** The time in insert_time_range nearest to sound_insert_time (itself when it is in range); null when the range is empty. */
  nearest_insert_time: number | null;
}

/**
 * The sound_insert_time values at which a crop of `croppedMs` lies inside a video of `videoMs`
 * and overlaps the interval `face` by at least `minOverlapMs`: `[earliest, latest]`, or null.
 * The overlap min(t + L, end) - max(t, start) reaches m exactly when L ≥ m, end - start ≥ m,
 * t + L - start ≥ m and end - t ≥ m; inside the video: 0 ≤ t ≤ videoMs - L.
 */
export function validInsertRange(croppedMs: number, face: Span, videoMs: number, minOverlapMs = DEFAULT_PLAN_LIMITS.minOverlapMs): { earliest: number; latest: number } | null {
  if (croppedMs < minOverlapMs || face.end_time - face.start_time < minOverlapMs) return null;
  const earliest = Math.max(0, face.start_time + minOverlapMs - croppedMs);
  const latest = Math.min(videoMs - croppedMs, face.end_time - minOverlapMs);
  return earliest <= latest ? { earliest, latest } : null;
}

/** The length of the overlap of two spans (0 when apart). */
export function overlapMs(a: Span, b: Span): number {
  return Math.max(0, Math.min(a.end_time, b.end_time) - Math.max(a.start_time, b.start_time));
}

/** Checks one face choice against the session, with the audio it crops from being `audioDurationMs` long. */
export function checkFaceChoice(choice: FaceChoice, audioDurationMs: number, session: PlanSession, limits: PlanLimits = DEFAULT_PLAN_LIMITS): ChoiceCheck {
  const problems: PlanProblem[] = [];
  const add = (r: (typeof PlanRule)[keyof typeof PlanRule], message: string) => problems.push({ code: r.code, rule: r.rule, message });
  const { sound_start_time: cropStart, sound_end_time: cropEnd, sound_insert_time: insertAt } = choice;
  const croppedMs = cropEnd - cropStart;
  const inserted = { start_time: insertAt, end_time: insertAt + Math.max(0, croppedMs) };
  const videoMs = session.videoDurationMs;

  if (audioDurationMs < limits.minAudioMs || audioDurationMs > limits.maxAudioMs) {
    add(PlanRule.AudioDuration, `the audio is ${sec(audioDurationMs)} s long, outside ${sec(limits.minAudioMs)}–${sec(limits.maxAudioMs)} s`);
  }
  if (croppedMs < limits.minCroppedMs) {
    add(PlanRule.CroppedTooShort, `the cropped audio (sound_end_time ${cropEnd} - sound_start_time ${cropStart}) is ${sec(croppedMs)} s, shorter than ${sec(limits.minCroppedMs)} s`);
  }
  if (cropEnd > audioDurationMs) {
    add(PlanRule.CropPastAudioEnd, `sound_end_time ${cropEnd} ms is later than the audio's end at ${audioDurationMs} ms`);
  }
  if (inserted.start_time < 0 || inserted.end_time > videoMs) {
    add(PlanRule.InsertOutsideVideo, `the inserted span ${inserted.start_time}–${inserted.end_time} ms is not inside the video's 0–${videoMs} ms`);
  }

  const f = session.faces.find((x) => x.face_id === choice.face_id);
  let face: Span | null = null;
  let overlap: number | null = null;
  let range: ChoiceCheck['insert_time_range'] = null;
  if (!f) {
    const known = session.faces.map((x) => `"${x.face_id}"`).join(', ');
    add(PlanRule.FaceUnknown, `face_id "${choice.face_id}" is not a face of this session (its faces: ${known || 'none'})`);
  } else {
    face = { start_time: f.start_time, end_time: f.end_time };
    overlap = overlapMs(inserted, face);
    if (overlap < limits.minOverlapMs) {
      add(PlanRule.OverlapTooShort, `the inserted span ${inserted.start_time}–${inserted.end_time} ms overlaps face "${f.face_id}"'s interval ${face.start_time}–${face.end_time} ms by ${sec(overlap)} s, less than ${sec(limits.minOverlapMs)} s`);
    }
    range = validInsertRange(croppedMs, face, videoMs, limits.minOverlapMs);
  }

  return {
    face_id: choice.face_id,
    accepted: problems.length === 0,
    audio_duration_ms: audioDurationMs,
    cropped_ms: croppedMs,
    inserted,
    face,
    overlap_ms: overlap,
    problems,
    insert_time_range: range,
    nearest_insert_time: range ? Math.min(range.latest, Math.max(range.earliest, insertAt)) : null,
  };
}

/** Checks every choice; the plan is accepted when it has at least one choice and every choice is. */
export function checkPlan(
  choices: ReadonlyArray<{ choice: FaceChoice; audioDurationMs: number }>,
  session: PlanSession,
  limits: PlanLimits = DEFAULT_PLAN_LIMITS,
): { accepted: boolean; checks: ChoiceCheck[] } {
  const checks = choices.map(({ choice, audioDurationMs }) => checkFaceChoice(choice, audioDurationMs, session, limits));
  return { accepted: checks.length > 0 && checks.every((c) => c.accepted), checks };
}

function sec(ms: number): string {
  return (ms / 1000).toFixed(3).replace(/\.?0+$/, '');
}
