import type { AudioSummary, FaceSample, FaceTimeline, Point2, TimeSpan } from '../analysis/types.js';
import { newId } from '../storage/ids.js';
import type { Box } from '../vision/geometry.js';
import type { IdentifiedVideo } from './identify-file.js';

/** Where a face was and how usable, over time (source pixels, ms): the `tracks` extension. */
export interface TrackJson {
  spans: { start_time: number; end_time: number; state: 'usable' | 'unusable' | 'unseen'; reason?: string }[];
  samples: { t: number; box: Box }[];
}

/** A stretch of time in integer ms from the first displayed frame; end_time exclusive. */
export interface SpanJson {
  start_time: number;
  end_time: number;
}

/** The soundtrack: whether the video has one, and when any voice is heard (whoever speaks). */
export interface AudioJson {
  present: boolean;
  speech: SpanJson[];
}

/** One analysed frame of a face, for per-frame tracks: source pixels to 0.1 px. */
export interface SampleJson {
  t: number;
  box: Box;
  keypoints: Point2[];
  lips: Point2[];
}

/**
 * What per-frame tracks are made from (frame-tracks.ts), kept beside the result: the time of
 * every frame, the cuts, and every face's analysed frames (faces, then rejected faces, in the
 * summary's order). Only when the frame times were listed (IdentifyFileOptions.frameTimes).
 */
export interface FrameSourceJson {
  frames_ms: number[];
  cuts_ms: number[];
  faces: SampleJson[][];
  rejected_faces: SampleJson[][];
}

/** Plain data of one analysed video (what a worker thread hands back), before URLs are made. */
export interface IdentifySummary {
  video: { duration_ms: number; width: number; height: number; fps: number; format: string };
  faces: { face_id: string; person_id: string; start_time: number; end_time: number; box: Box; score: number; speaking: SpanJson[]; picture_file: string; track: TrackJson }[];
  rejected_faces: { reason: string; person_id: string; start_time: number; end_time: number; speaking: SpanJson[]; track: TrackJson }[];
  audio: AudioJson;
  frame_source?: FrameSourceJson;
}

/** One entry of data.face_data: the seed's four fields plus documented additions. */
export interface FaceDataEntry {
  face_id: string;
  /** Extension: the same for every face_id of one person, judged by appearance. */
  person_id: string;
  face_image: string;
  start_time: number;
  end_time: number;
  /** Extension: the face's box in source pixels on the frame the picture was cut from. */
  box: Box;
  /** Extension: the face mesh's confidence on that frame (0..1). */
  score: number;
  /** Extension: when this face's own voice is heard ([] when never). */
  speaking: SpanJson[];
}

export interface ResultJson {
  code: 0;
  message: 'SUCCEED';
  request_id: string;
  data: {
    session_id: string;
    final_unit_deduction: string;
    face_data: FaceDataEntry[];
    /** Extension: what was measured of the video. */
    video: IdentifySummary['video'];
    /** Extension: faces seen but not usable for lip-sync, with why. */
    rejected_faces: Omit<IdentifySummary['rejected_faces'][number], 'track'>[];
    /** Extension: the soundtrack and when any voice is heard. */
    audio: AudioJson;
  };
}

export interface ResultContext {
  sessionId?: string;
  requestId?: string;
  finalUnitDeduction?: string;
  /** The URL clients get for a face (file:// for the CLI, a signed URL for the service). */
  imageUrl: (face: IdentifySummary['faces'][number]) => string;
}

/** What a session stores (sessions.data): the result's faces with their picture's file id instead of a URL, which is signed afresh on each read. */
export interface SessionDocument {
  video: IdentifySummary['video'];
  faces: (Omit<FaceDataEntry, 'face_image'> & { file_id: string })[];
  rejected_faces: ResultJson['data']['rejected_faces'];
  audio: AudioJson;
}

export function buildSessionDocument(summary: IdentifySummary, fileIdOf: (faceId: string) => string): SessionDocument {
  return {
    video: summary.video,
    faces: summary.faces.map((f) => ({ face_id: f.face_id, person_id: f.person_id, file_id: fileIdOf(f.face_id), start_time: f.start_time, end_time: f.end_time, box: f.box, score: f.score, speaking: f.speaking })),
    rejected_faces: summary.rejected_faces.map(({ track: _t, ...r }) => r),
    audio: summary.audio,
  };
}

export const newRequestId = () => newId('req');

const spansJson = (spans: readonly TimeSpan[]): SpanJson[] => spans.map((s) => ({ start_time: Math.round(s.startMs), end_time: Math.round(s.endMs) }));

const audioJson = (a: AudioSummary): AudioJson => ({ present: a.present, speech: spansJson(a.speech) });

const tenth = (v: number) => Math.round(v * 10) / 10;
const pointJson = (p: Point2): Point2 => [tenth(p[0]), tenth(p[1])];
const sampleJson = (s: FaceSample): SampleJson => ({
  t: Math.round(s.timeMs),
  box: { x: tenth(s.box.x), y: tenth(s.box.y), width: tenth(s.box.width), height: tenth(s.box.height) },
  keypoints: s.keypoints.map(pointJson),
  lips: s.lips.map(pointJson),
});

function frameSource(video: IdentifiedVideo): FrameSourceJson | undefined {
  const { frameTimesMs, analysis } = video;
  if (!frameTimesMs) return undefined;
  return {
    frames_ms: frameTimesMs,
    cuts_ms: analysis.observations.filter((o) => o.cutBefore).map((o) => Math.round(o.timeMs)),
    faces: analysis.result.faces.map((f) => f.timeline.samples.map(sampleJson)),
    rejected_faces: analysis.result.rejected.map((r) => r.timeline.samples.map(sampleJson)),
  };
}

export function summarize(video: IdentifiedVideo): IdentifySummary {
  const { info, analysis, pictures } = video;
  const px = (b: Box): Box => ({ x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) });
  const track = (t: FaceTimeline): TrackJson => ({
    spans: t.spans.map((s) => ({ start_time: Math.round(s.startMs), end_time: Math.round(s.endMs), state: s.state, ...(s.reason ? { reason: s.reason } : {}) })),
    samples: t.samples.map((s) => ({ t: Math.round(s.timeMs), box: px(s.box) })),
  });
  return {
    video: {
      duration_ms: Math.round(info.durationMs),
      width: info.width,
      height: info.height,
      fps: Math.round(info.fps * 1000) / 1000,
      format: info.format,
    },
    faces: analysis.result.faces.map((f, i) => ({
      face_id: f.faceId,
      person_id: f.personId,
      start_time: Math.round(f.startMs),
      end_time: Math.round(f.endMs),
      box: pictures[i].box,
      score: Math.round(f.best.sighting.confidence * 1000) / 1000,
      speaking: spansJson(f.speaking),
      picture_file: pictures[i].file,
      track: track(f.timeline),
    })),
    rejected_faces: analysis.result.rejected.map((r) => ({
      reason: r.reason,
      person_id: r.personId,
      start_time: Math.round(r.startMs),
      end_time: Math.round(r.endMs),
      speaking: spansJson(r.speaking),
      track: track(r.timeline),
    })),
    audio: audioJson(analysis.result.audio),
    ...(video.frameTimesMs ? { frame_source: frameSource(video) } : {}),
  };
}

/** The result JSON of CONTRACT.md §1. */
export function buildResultJson(summary: IdentifySummary, ctx: ResultContext): ResultJson {
  return {
    code: 0,
    message: 'SUCCEED',
    request_id: ctx.requestId ?? newRequestId(),
    data: {
      session_id: ctx.sessionId ?? newId('sess'),
      final_unit_deduction: ctx.finalUnitDeduction ?? '1',
      face_data: summary.faces.map((f) => ({
        face_id: f.face_id,
        person_id: f.person_id,
        face_image: ctx.imageUrl(f),
        start_time: f.start_time,
        end_time: f.end_time,
        box: f.box,
        score: f.score,
        speaking: f.speaking,
      })),
      video: summary.video,
      rejected_faces: summary.rejected_faces.map(({ track: _track, ...r }) => r),
      audio: summary.audio,
    },
  };
}
