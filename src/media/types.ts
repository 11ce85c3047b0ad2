/** What ffprobe tells us about an input video, in display orientation. */
export interface VideoInfo {
  /** 'mp4' or 'mov', judged from the file's bytes (ftyp brand). */
  format: 'mp4' | 'mov';
  sizeBytes: number;
  /** Duration of the video stream in ms (presentation time, first displayed frame to end). */
  durationMs: number;
  /** Display width/height: coded size with rotation metadata applied. */
  width: number;
  height: number;
  /** Rotation in degrees from the display matrix (0, 90, 180, 270), counter-clockwise as ffmpeg reports it. */
  rotation: number;
  /** Average frame rate (frames per second). */
  fps: number;
  /** Codec name of the video stream, e.g. 'h264'. */
  codec: string;
  /** Number of frames if the container declares it, else an estimate from duration × fps. */
  frameCount: number;
  /** Index of the chosen video stream in the file (for `-map 0:N`); absent means the default video stream. */
  streamIndex?: number;
  /** Coded (stored) frame size, before rotation. */
  codedWidth?: number;
  codedHeight?: number;
  /**
   * ms from the container's start (where ffmpeg's `-ss 0` lands) to the first displayed video frame;
   * non-zero when another stream starts earlier. Add it to a timeMs to seek with ffmpeg.
   */
  startOffsetMs?: number;
  /** The first audio stream, if any: its index and where its first sample falls, in ms from the first displayed video frame. */
  audio?: { streamIndex: number; startMs: number };
}

/** One decoded frame, packed RGB24, at the requested analysis size. */
export interface DecodedFrame {
  /** 0-based index in presentation order. */
  index: number;
  /** Presentation time in ms from the first displayed frame (first frame is 0). */
  timeMs: number;
  /** A keyframe: decoding can start here (a seek lands on the keyframe before its target). */
  key: boolean;
  width: number;
  height: number;
  /** The frame in the pixel format asked for, in a buffer of its own (the consumer may keep it). */
  data: Uint8Array;
  /** Hands `data` back to the decoder to be filled again (it is unusable from then on); a frame never released is simply collected. */
  release?: () => void;
}
