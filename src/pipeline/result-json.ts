import { randomUUID } from 'node:crypto';
import type { IdentifiedVideo } from './identify-file.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Plain data of one analysed video (what a worker thread hands back), before URLs are made. */
export interface IdentifySummary {
  video: { duration_ms: number; width: number; height: number; fps: number; format: string };
  faces: { face_id: string; start_time: number; end_time: number; box: Box; score: number; picture_file: string }[];
  rejected_faces: { reason: string; start_time: number; end_time: number }[];
}

/** One entry of data.face_data: the seed's four fields plus documented additions. */
export interface FaceDataEntry {
  face_id: string;
  face_image: string;
  start_time: number;
  end_time: number;
  /** Extension: the face's box in source pixels on the frame the picture was cut from. */
  box: Box;
  /** Extension: the detector's confidence on that frame (0..1). */
  score: number;
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
    rejected_faces: IdentifySummary['rejected_faces'];
  };
}

export interface ResultContext {
  sessionId?: string;
  requestId?: string;
  finalUnitDeduction?: string;
  /** The URL clients get for a face (file:// for the CLI, a signed URL for the service). */
  imageUrl: (face: IdentifySummary['faces'][number]) => string;
}

export const newRequestId = () => `req_${randomUUID().replace(/-/g, '')}`;

export function summarize(video: IdentifiedVideo): IdentifySummary {
  const { info, analysis, pictures } = video;
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
      start_time: Math.round(f.startMs),
      end_time: Math.round(f.endMs),
      box: pictures[i].box,
      score: Math.round(f.best.sighting.confidence * 1000) / 1000,
      picture_file: pictures[i].file,
    })),
    rejected_faces: analysis.result.rejected.map((r) => ({ reason: r.reason, start_time: Math.round(r.startMs), end_time: Math.round(r.endMs) })),
  };
}

/** The result JSON of CONTRACT.md §1. */
export function buildResultJson(summary: IdentifySummary, ctx: ResultContext): ResultJson {
  return {
    code: 0,
    message: 'SUCCEED',
    request_id: ctx.requestId ?? newRequestId(),
    data: {
      session_id: ctx.sessionId ?? `sess_${randomUUID().replace(/-/g, '')}`,
      final_unit_deduction: ctx.finalUnitDeduction ?? '1',
      face_data: summary.faces.map((f) => ({
        face_id: f.face_id,
        face_image: ctx.imageUrl(f),
        start_time: f.start_time,
        end_time: f.end_time,
        box: f.box,
        score: f.score,
      })),
      video: summary.video,
      rejected_faces: summary.rejected_faces,
    },
  };
}
