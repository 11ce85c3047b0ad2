import { frameTracks, type BoxCorners, type TrackedFace } from '../analysis/frame-tracks.js';
import type { Keypoints, Point2 } from '../analysis/types.js';
import type { FrameSourceJson, IdentifySummary, SampleJson, TrackJson } from './result-json.js';

/** One face's per-frame values: one entry per frame of frames_ms, null where the face is absent. */
export interface FaceFramesJson {
  person_id: string;
  start_time: number;
  end_time: number;
  /** Smoothed within each shot (zero-phase), inside the frame: [x1, y1, x2, y2]. */
  boxes: (BoxCorners | null)[];
  /** As measured, interpolated between analysed frames, inside the frame. */
  raw_boxes: (BoxCorners | null)[];
  /** Left eye, right eye, nose tip, left mouth corner, right mouth corner. */
  keypoints: (Keypoints | null)[];
  /** The lip contour: 20 outer points, then 20 inner ones, each from the left corner. */
  mouth: (Point2[] | null)[];
}

/** Every frame of every face (issue 14): what `--tracks` writes and `tracks?frames=all` answers. */
export interface TracksDocument {
  video: { width: number; height: number; fps: number; frame_count: number; duration_ms: number };
  frames_ms: number[];
  faces: (FaceFramesJson & { face_id: string })[];
  rejected_faces: (FaceFramesJson & { reason: string })[];
}

/** What the document is made from: the summary's faces and the frame source beside it. */
export type TracksSummary = Pick<IdentifySummary, 'video'> & {
  faces: Pick<IdentifySummary['faces'][number], 'face_id' | 'person_id' | 'start_time' | 'end_time' | 'track'>[];
  rejected_faces: Pick<IdentifySummary['rejected_faces'][number], 'reason' | 'person_id' | 'start_time' | 'end_time' | 'track'>[];
};

const seenSpans = (track: TrackJson) => track.spans.filter((s) => s.state !== 'unseen').map((s) => ({ startMs: s.start_time, endMs: s.end_time }));
const samplesOf = (samples: readonly SampleJson[]) => samples.map((s) => ({ timeMs: s.t, box: s.box, keypoints: s.keypoints as Keypoints, lips: s.lips }));

/**
 * The per-frame tracks document: accepted faces get a value on every frame of their interval
 * [start_time, end_time) and wherever else they were seen; rejected faces wherever they were seen.
 */
export function tracksDocument(summary: TracksSummary, source: FrameSourceJson): TracksDocument {
  const { video } = summary;
  const faces: TrackedFace[] = [
    ...summary.faces.map((f, i) => ({ startMs: f.start_time, endMs: f.end_time, seen: seenSpans(f.track), samples: samplesOf(source.faces[i] ?? []) })),
    // a rejected face's interval is its presence: only where it was seen
    ...summary.rejected_faces.map((r, i) => ({ startMs: 0, endMs: 0, seen: seenSpans(r.track), samples: samplesOf(source.rejected_faces[i] ?? []) })),
  ];
  const frames = frameTracks({ width: video.width, height: video.height, framesMs: source.frames_ms, cutsMs: source.cuts_ms, faces });
  const json = (i: number, f: { person_id: string; start_time: number; end_time: number }): FaceFramesJson => ({
    person_id: f.person_id,
    start_time: f.start_time,
    end_time: f.end_time,
    boxes: frames[i].boxes,
    raw_boxes: frames[i].rawBoxes,
    keypoints: frames[i].keypoints,
    mouth: frames[i].mouth,
  });
  const n = summary.faces.length;
  return {
    video: { width: video.width, height: video.height, fps: video.fps, frame_count: source.frames_ms.length, duration_ms: video.duration_ms },
    frames_ms: source.frames_ms,
    faces: summary.faces.map((f, i) => ({ face_id: f.face_id, ...json(i, f) })),
    rejected_faces: summary.rejected_faces.map((r, i) => ({ reason: r.reason, ...json(n + i, r) })),
  };
}
