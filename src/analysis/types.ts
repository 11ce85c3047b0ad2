import type { Box } from '../vision/geometry.js';

export type Point2 = [number, number];

/** Left eye, right eye, nose tip, left mouth corner, right mouth corner ("left" = the image's left). */
export type Keypoints = [Point2, Point2, Point2, Point2, Point2];

/** One face as measured in one analysed frame. Every position is in source pixels (display orientation). */
export interface FaceSighting {
  box: Box;
  /** The face mesh's confidence that this is a face, 0..1. */
  confidence: number;
  /** Head pose in degrees (0 = facing the camera). */
  yaw: number;
  pitch: number;
  /** Every mouth landmark lies inside the frame. */
  mouthInFrame: boolean;
  /** Something (a hand, a microphone, an object) covers the lips. */
  mouthHidden: boolean;
  keypoints: Keypoints;
  /** The lip contour: the outer lip line, then the inner one, each going round from the left corner. */
  lips: Point2[];
  /** Variance of the Laplacian of the face at a fixed size (higher is sharper). */
  sharpness: number;
  /** Appearance vector (unit length), computed only where identity must be decided. */
  embedding?: Float32Array;
  /** How much the mouth moved since the frame before, read from the pixels (vision/mouth-motion.ts); absent without one. */
  mouthMotion?: MouthMotion;
}

/** Mouth movement between two frames: the measure (0 = still) and how far apart the frames were (ms). */
export interface MouthMotion {
  value: number;
  overMs: number;
}

/** The view a face's picture is cut from. */
export interface BestView {
  timeMs: number;
  sighting: FaceSighting;
  /** How long after the last keyframe the frame is shown, when known (0: a keyframe, decoded alone). */
  fromKeyMs?: number;
}

/** Everything seen in one analysed frame. A frame's list is complete: a face not listed is absent. */
export interface FrameObservation {
  frame: number;
  timeMs: number;
  /** A hard cut lies between the previous frame and this one. */
  cutBefore: boolean;
  /** How long after the last keyframe the frame is shown, when known: cutting a picture from it decodes that stretch. */
  fromKeyMs?: number;
  faces: FaceSighting[];
}

export type RejectReason =
  | 'too_small'
  | 'turned_away'
  | 'mouth_out_of_frame'
  | 'mouth_hidden'
  | 'blurry'
  | 'too_short';

export interface Usability {
  usable: boolean;
  reason?: Exclude<RejectReason, 'too_short'>;
}

/** A stretch of time, ms from the first displayed frame; endMs exclusive. */
export interface TimeSpan {
  startMs: number;
  endMs: number;
}

/**
 * What a voice-activity model heard in the soundtrack, on a grid of hops: hop i covers
 * [startMs + i * hopMs, startMs + (i + 1) * hopMs).
 */
export interface VoiceActivity {
  /** Start of the first hop, ms from the first displayed frame (negative when the sound starts first). */
  startMs: number;
  hopMs: number;
  /** Probability of speech per hop, 0..1. */
  probability: Float32Array;
  /** Loudness per hop: log of the hop's mean square (natural log, of samples in -1..1). */
  energy: Float32Array;
  /** How open the voice sounds per hop (analysis/sound-opening.ts: log energy of 500–1500 Hz less that of 80–400 Hz; 0 in silence). */
  opening: Float32Array;
  /** When a voice is heard (ms from the first displayed frame, not clipped to the video). */
  speech: TimeSpan[];
}

/** Where a face was at one analysed frame (source pixels): its box, 5 keypoints and lip contour, and how its mouth moved. */
export interface FaceSample {
  timeMs: number;
  box: Box;
  keypoints: Keypoints;
  lips: Point2[];
  /** Movement of the mouth since the frame before (absent without one). */
  mouthMotion?: MouthMotion;
}

/** How a face's presence went: its states over time and where it was. */
export interface FaceTimeline {
  spans: { startMs: number; endMs: number; state: 'usable' | 'unusable' | 'unseen'; reason?: Usability['reason'] }[];
  samples: FaceSample[];
}

/** A face (one person, one continuous presence) and its lip-sync interval. */
export interface IdentifiedFace {
  faceId: string;
  /** The same for every face of one person (judged by appearance): "person_0", … in order of first appearance. */
  personId: string;
  /** Presence on screen, ms. */
  presentFromMs: number;
  presentToMs: number;
  startMs: number;
  endMs: number;
  /** The sighting the face picture is cut from, and its frame time. */
  best: BestView;
  timeline: FaceTimeline;
  /** When this face's own voice is heard ([] when never). */
  speaking: TimeSpan[];
}

export interface RejectedFace {
  reason: RejectReason;
  /** As IdentifiedFace.personId (person ids are shared by accepted and rejected faces). */
  personId: string;
  startMs: number;
  endMs: number;
  best: BestView;
  timeline: FaceTimeline;
  speaking: TimeSpan[];
}

/** The soundtrack: whether there is one, and when any voice is heard. */
export interface AudioSummary {
  present: boolean;
  speech: TimeSpan[];
}

export interface AnalysisResult {
  faces: IdentifiedFace[];
  rejected: RejectedFace[];
  audio: AudioSummary;
}
