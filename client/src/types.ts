/**
 * The documents of the Kirin Face API (CONTRACT.md and GET /openapi.json): what the client sends
 * and gets back. Fields marked "extension" are additions to the seed API; the seed's fields never
 * change name, type or meaning.
 */

export const MODEL = 'kirin_identify_face';

/** A stretch of time in integer ms from the video's first displayed frame; end_time exclusive. */
export interface TimeSpan {
  start_time: number;
  end_time: number;
}

/** What was measured of the video. */
export interface VideoMeta {
  duration_ms: number;
  width: number;
  height: number;
  fps: number;
  /** "mp4" or "mov", judged from the bytes. */
  format: string;
}

/** A face box in source pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Extension: the soundtrack, and when any voice is heard (whoever it belongs to). */
export interface AudioInfo {
  present: boolean;
  speech: TimeSpan[];
}

/** One usable face: one person in one continuous on-screen presence. */
export interface FaceData {
  /** "0", "1", … in order of start_time (ties: left to right). */
  face_id: string;
  /** Signed URL of a JPEG crop of the face; no key needed; valid as long as the session. */
  face_image: string;
  /** Usable interval, ms from the first displayed frame. */
  start_time: number;
  end_time: number;
  /** Extension: the same for every face of one person (across gaps and cuts). */
  person_id?: string;
  /** Extension: the face's box on the frame the picture was cut from. */
  box?: Box;
  /** Extension: the face mesh's confidence on that frame, 0..1. */
  score?: number;
  /** Extension: when this face's own voice is heard; [] when never. */
  speaking?: TimeSpan[];
}

export type RejectReason = 'too_small' | 'turned_away' | 'mouth_out_of_frame' | 'mouth_hidden' | 'blurry' | 'too_short';

/** Extension: a face seen but not usable for lip-sync, with why. */
export interface RejectedFace {
  reason: RejectReason | (string & {});
  person_id?: string;
  start_time: number;
  end_time: number;
  speaking?: TimeSpan[];
}

/** The result JSON: the `text` of a completed task's output, parsed; also the synchronous route's answer. */
export interface ResultJson {
  code: 0;
  message: 'SUCCEED';
  request_id: string;
  data: {
    session_id: string;
    final_unit_deduction: string;
    face_data: FaceData[];
    /** Extension. */
    video?: VideoMeta;
    /** Extension. */
    rejected_faces?: RejectedFace[];
    /** Extension. */
    audio?: AudioInfo;
  };
}

export type TaskStatus = 'pending' | 'processing' | 'completed' | 'failed';

/** The contract's error: a code (e.g. "014001105") and a message naming the value and the limit. */
export interface ErrorInfo {
  code: string;
  error_message: string;
}

/** A task object (CONTRACT.md §1). */
export interface Task {
  id: string;
  model: typeof MODEL;
  status: TaskStatus;
  /** 0..1 */
  progress: number;
  /** Unix seconds. */
  created_at: number;
  completed_at?: number | null;
  external_task_id?: string | null;
  /** Only when failed. */
  error?: ErrorInfo;
  /** Only when completed: output[0].content[0].text is the result JSON as a string (see parseResult). */
  output?: { content: { type: string; text: string; url: string }[] }[];
  /** Only when completed. */
  usage?: { cost: string; discount: number };
  metadata?: { queue_ms?: number | null; processing_ms?: number | null; video?: VideoMeta };
}

export interface TaskList {
  data: Task[];
  has_more: boolean;
}

/** An uploaded video (POST /v1/videos). */
export interface Video {
  video_id: string;
  duration_ms: number;
  width: number;
  height: number;
  fps: number;
  format: string;
  size_bytes: number;
  /** Unix seconds. */
  expires_at: number;
}

/** A session: the faces of one analysed video, valid 24 h. */
export interface Session {
  session_id: string;
  task_id: string;
  /** Unix seconds. */
  created_at: number;
  expires_at: number;
  video: VideoMeta;
  face_data: FaceData[];
  rejected_faces: RejectedFace[];
  audio?: AudioInfo;
  /** Extension: the path of this session's per-frame tracks on the service (getSessionTracks answers them). */
  tracks_url?: string;
}

/** Where a task's video comes from: exactly one of these. */
export type VideoSource = { video_url: string; video_id?: never } | { video_id: string; video_url?: never };

export type CreateTaskRequest = VideoSource & {
  callback_url?: string;
  /** Unique per owner: a second create with the same one returns the first task. */
  external_task_id?: string;
};

// ---- tracks (extension)

/** How usable a face is over a stretch of time. */
export interface TrackSpan extends TimeSpan {
  state: 'usable' | 'unusable' | 'unseen';
  reason?: string;
}

/** A face over time: its states and its box at each analysed frame (t in ms). */
export interface Track {
  spans: TrackSpan[];
  samples: { t: number; box: Box }[];
}

/** GET …/tracks without `frames`: each face's states and analysed boxes. */
export interface Tracks {
  task_id: string;
  session_id: string;
  video: VideoMeta;
  audio: AudioInfo;
  faces: { face_id: string; person_id?: string; start_time: number; end_time: number; speaking?: TimeSpan[]; track: Track }[];
  rejected_faces: { reason: string; person_id?: string; start_time: number; end_time: number; speaking?: TimeSpan[]; track?: Track }[];
}

/** [x1, y1, x2, y2] in source pixels. */
export type BoxCorners = [number, number, number, number];
export type Point = [number, number];

/** One face on every frame: one entry per frame of frames_ms, null where the face is absent. */
export interface FaceFrames {
  person_id?: string;
  start_time: number;
  end_time: number;
  /** Smoothed within each shot. */
  boxes: (BoxCorners | null)[];
  /** As measured, interpolated between analysed frames. */
  raw_boxes: (BoxCorners | null)[];
  /** Left eye, right eye, nose tip, left mouth corner, right mouth corner. */
  keypoints: (Point[] | null)[];
  /** The lip contour: 20 outer points, then 20 inner ones. */
  mouth: (Point[] | null)[];
}

/** GET …/tracks?frames=all: every face on every frame. */
export interface FrameTracks {
  task_id: string;
  session_id: string;
  video: { width: number; height: number; fps: number; frame_count: number; duration_ms: number };
  /** The time of every frame of the video, ms from the first displayed frame. */
  frames_ms: number[];
  faces: (FaceFrames & { face_id: string })[];
  rejected_faces: (FaceFrames & { reason: string })[];
}

// ---- lip-sync plan check (extension)

/** The audio a choice crops from: its length, or a URL the service fetches and measures. */
export type AudioSource = { audio_duration_ms: number; sound_file?: never } | { sound_file: string; audio_duration_ms?: never };

/** One entry of Kling's advanced lip-sync face_choose. */
export interface FaceChoice {
  face_id: string;
  sound_start_time: number;
  sound_end_time: number;
  sound_insert_time: number;
  audio_duration_ms?: number;
  sound_file?: string;
  /** Other fields (sound_volume, …) are accepted and ignored. */
  [other: string]: unknown;
}

/** The plan: face_choose, and the audio at the top level for every entry (or in each entry). */
export interface LipSyncPlan {
  face_choose: FaceChoice[];
  audio_duration_ms?: number;
  sound_file?: string;
}

export type PlanProblemRule =
  | 'audio_duration_out_of_range'
  | 'cropped_audio_too_short'
  | 'crop_past_audio_end'
  | 'insert_outside_video'
  | 'face_overlap_too_short'
  | 'face_id_unknown';

export interface PlanProblem {
  /** 014001501 … 014001506 */
  code: string;
  rule: PlanProblemRule;
  message: string;
}

export interface PlanCheck {
  index: number;
  face_id: string;
  accepted: boolean;
  audio: { source: 'audio_duration_ms' | 'sound_file'; duration_ms: number; format?: 'mp3' | 'wav' | 'm4a'; codec?: string; size_bytes?: number };
  cropped_ms: number;
  inserted: TimeSpan;
  face: TimeSpan | null;
  overlap_ms: number | null;
  problems: PlanProblem[];
  insert_time_range: { earliest: number; latest: number } | null;
  nearest_insert_time: number | null;
}

export interface LipSyncCheck {
  code: 0;
  message: 'SUCCEED';
  request_id: string;
  data: {
    session_id: string;
    accepted: boolean;
    video: { duration_ms: number };
    checks: PlanCheck[];
  };
}
