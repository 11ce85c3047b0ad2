import { randomUUID } from 'node:crypto';
import type { IdentifiedVideo } from './identify-file.js';

/** One entry of data.face_data: the seed's four fields plus documented additions. */
export interface FaceDataEntry {
  face_id: string;
  face_image: string;
  start_time: number;
  end_time: number;
  /** Extension: the face's box in source pixels on the frame the picture was cut from. */
  box: { x: number; y: number; width: number; height: number };
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
    video: { duration_ms: number; width: number; height: number; fps: number; format: string };
    /** Extension: faces seen but not usable for lip-sync, with why. */
    rejected_faces: { reason: string; start_time: number; end_time: number }[];
  };
}

export interface ResultContext {
  sessionId?: string;
  requestId?: string;
  finalUnitDeduction?: string;
  /** Turns a picture file into the URL clients get (file:// for the CLI, a signed URL for the service). */
  imageUrl: (file: string) => string;
}

export const newId = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '')}`;

/** The result JSON of CONTRACT.md §1 for one identified video. */
export function buildResultJson(video: IdentifiedVideo, ctx: ResultContext): ResultJson {
  const { info, analysis, pictures } = video;
  return {
    code: 0,
    message: 'SUCCEED',
    request_id: ctx.requestId ?? newId('req'),
    data: {
      session_id: ctx.sessionId ?? newId('sess'),
      final_unit_deduction: ctx.finalUnitDeduction ?? '1',
      face_data: analysis.result.faces.map((f, i) => ({
        face_id: f.faceId,
        face_image: ctx.imageUrl(pictures[i].file),
        start_time: Math.round(f.startMs),
        end_time: Math.round(f.endMs),
        box: pictures[i].box,
        score: Math.round(f.best.sighting.confidence * 1000) / 1000,
      })),
      video: {
        duration_ms: Math.round(info.durationMs),
        width: info.width,
        height: info.height,
        fps: Math.round(info.fps * 1000) / 1000,
        format: info.format,
      },
      rejected_faces: analysis.result.rejected.map((r) => ({
        reason: r.reason,
        start_time: Math.round(r.startMs),
        end_time: Math.round(r.endMs),
      })),
    },
  };
}
