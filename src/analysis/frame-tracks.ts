import type { Box } from '../vision/geometry.js';
import type { FaceSample, Keypoints, Point2, TimeSpan } from './types.js';

/** [x1, y1, x2, y2] in source pixels. */
export type BoxCorners = [number, number, number, number];

/** One face as the per-frame tracks see it. */
export interface TrackedFace {
  /** Every frame in [startMs, endMs) gets a value (the lip-sync interval: gaps in it are filled). */
  startMs: number;
  endMs: number;
  /** Where the face was seen (its presence without unseen gaps): these frames get a value too. */
  seen: readonly TimeSpan[];
  /** Its analysed frames, in time order. */
  samples: readonly FaceSample[];
}

export interface FrameTrackInput {
  /** The frame size, source pixels: boxes are kept inside it. */
  width: number;
  height: number;
  /** The time of every frame of the video, ms, ascending. */
  framesMs: readonly number[];
  /** Times of the first frames of new shots (hard cuts), ms: nothing is carried across them. */
  cutsMs: readonly number[];
  faces: readonly TrackedFace[];
}

/** One face's values per frame (null where it is absent). */
export interface FaceFrames {
  /** Smoothed within each shot, inside the frame. */
  boxes: (BoxCorners | null)[];
  /** As measured (interpolated between analysed frames), inside the frame. */
  rawBoxes: (BoxCorners | null)[];
  keypoints: (Keypoints | null)[];
  /** The lip contour (null also where none was measured). */
  mouth: (Point2[] | null)[];
}

export interface SmoothingOptions {
  /** Width (standard deviation, ms) of the Gaussian time window of the local fit. */
  sigmaMs: number;
}

/**
 * Box smoothing: a local quadratic fit in a Gaussian window of 100 ms around each frame. Being
 * symmetric in time it is zero-phase (never behind the face), and a quadratic follows steady
 * motion and its turns exactly; frame-to-frame jitter of the landmarks (a few frames' worth) is
 * averaged out.
 */
export const DEFAULT_SMOOTHING: SmoothingOptions = { sigmaMs: 100 };

/**
 * Every face's box, 5 keypoints and lip contour on every frame of the video, from its analysed
 * frames: linear between two analysed frames of one shot, held from the nearest one of the shot
 * before the first and after the last, never carried across a cut. A face gets a value on every
 * frame it was seen and on every frame of its interval (an unseen gap inside the interval is
 * bridged too), null elsewhere.
 */
export function frameTracks(input: FrameTrackInput, smoothing: SmoothingOptions = DEFAULT_SMOOTHING): FaceFrames[] {
  const shots = shotOfFrames(input.framesMs, input.cutsMs);
  return input.faces.map((face) => faceFrames(face, input, shots, smoothing));
}

/** Shot number of each frame: it grows by one at every cut. */
export function shotOfFrames(framesMs: readonly number[], cutsMs: readonly number[]): Int32Array {
  const cuts = [...cutsMs].sort((a, b) => a - b);
  const shot = new Int32Array(framesMs.length);
  let k = 0;
  framesMs.forEach((t, i) => {
    while (k < cuts.length && cuts[k] <= t) k++;
    shot[i] = k;
  });
  return shot;
}

function faceFrames(face: TrackedFace, input: FrameTrackInput, shots: Int32Array, smoothing: SmoothingOptions): FaceFrames {
  const { framesMs } = input;
  const n = framesMs.length;
  const out: FaceFrames = { boxes: new Array(n).fill(null), rawBoxes: new Array(n).fill(null), keypoints: new Array(n).fill(null), mouth: new Array(n).fill(null) };
  const samples = [...face.samples].sort((a, b) => a.timeMs - b.timeMs);
  if (!samples.length) return out;
  const sampleShots = shotOfFrames(samples.map((s) => s.timeMs), input.cutsMs);
  const covered = (t: number) => (t >= face.startMs && t < face.endMs) || face.seen.some((s) => t >= s.startMs && t < s.endMs);
  // raw values: the analysed frames of the frame's shot on either side
  const raw: (Box | null)[] = new Array(n).fill(null);
  let next = 0; // first sample later than the frame
  for (let i = 0; i < n; i++) {
    const t = framesMs[i];
    while (next < samples.length && samples[next].timeMs <= t) next++;
    if (!covered(t)) continue;
    const pair = around(samples, sampleShots, next, shots[i], t);
    const a = pair.before, b = pair.after;
    let v: Pick<FaceSample, 'box' | 'keypoints' | 'lips'>;
    if (a && b && b.timeMs > a.timeMs) v = lerpSample(a, b, (t - a.timeMs) / (b.timeMs - a.timeMs));
    else v = (a ?? b)!;
    raw[i] = v.box;
    out.rawBoxes[i] = corners(v.box, input);
    out.keypoints[i] = v.keypoints.map(roundPoint) as Keypoints;
    out.mouth[i] = v.lips.length ? v.lips.map(roundPoint) : null;
  }
  const smooth = smoothBoxes(raw, framesMs, shots, smoothing);
  smooth.forEach((b, i) => (out.boxes[i] = b ? corners(b, input) : null));
  return out;
}

/**
 * The analysed frames to take a frame's value from: the last one at or before it and the first
 * one after it, both in the frame's shot; when the shot has none of the face (an interval bridging
 * a short shot without it), the nearest on either side of the cut.
 */
function around(samples: readonly FaceSample[], sampleShots: Int32Array, next: number, shot: number, t: number): { before?: FaceSample; after?: FaceSample } {
  const prev = samples[next - 1] as FaceSample | undefined, following = samples[next] as FaceSample | undefined;
  const before = prev && sampleShots[next - 1] === shot ? prev : undefined;
  const after = following && sampleShots[next] === shot ? following : undefined;
  if (before || after) return { before, after };
  const nearer = !following || (prev && t - prev.timeMs <= following.timeMs - t) ? prev : following;
  return { before: nearer };
}

function lerpSample(a: FaceSample, b: FaceSample, k: number): Pick<FaceSample, 'box' | 'keypoints' | 'lips'> {
  const lerp = (p: number, q: number) => p + (q - p) * k;
  const lerpPoints = (p: readonly Point2[], q: readonly Point2[]): Point2[] => p.map((pt, i) => [lerp(pt[0], q[i][0]), lerp(pt[1], q[i][1])]);
  return {
    box: { x: lerp(a.box.x, b.box.x), y: lerp(a.box.y, b.box.y), width: lerp(a.box.width, b.box.width), height: lerp(a.box.height, b.box.height) },
    keypoints: lerpPoints(a.keypoints, b.keypoints) as Keypoints,
    // a lip contour is carried over only between two measured ones of the same length
    lips: a.lips.length && a.lips.length === b.lips.length ? lerpPoints(a.lips, b.lips) : k < 0.5 ? a.lips : b.lips,
  };
}

/**
 * Each run of frames with a value inside one shot smoothed on its own: box centre and size fitted
 * by weighted least squares with a quadratic in time (Gaussian weights of sigmaMs, out to 3 sigma);
 * a linear fit where the window holds too few frames for a quadratic, the raw value where it holds
 * one.
 */
export function smoothBoxes(raw: readonly (Box | null)[], framesMs: readonly number[], shots: Int32Array, opts: SmoothingOptions): (Box | null)[] {
  const out: (Box | null)[] = new Array(raw.length).fill(null);
  let i = 0;
  while (i < raw.length) {
    if (!raw[i]) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < raw.length && raw[j] && shots[j] === shots[i]) j++;
    smoothRun(raw as Box[], framesMs, i, j, opts, out);
    i = j;
  }
  return out;
}

function smoothRun(raw: readonly Box[], framesMs: readonly number[], from: number, to: number, opts: SmoothingOptions, out: (Box | null)[]): void {
  const reach = 3 * opts.sigmaMs;
  const values = (b: Box) => [b.x + b.width / 2, b.y + b.height / 2, b.width, b.height];
  const series = raw.slice(from, to).map(values);
  let lo = from, hi = from; // the window [lo, hi)
  for (let i = from; i < to; i++) {
    const t = framesMs[i];
    while (framesMs[lo] < t - reach) lo++;
    while (hi < to && framesMs[hi] <= t + reach) hi++;
    const fit = localFit(framesMs, series, from, lo, hi, t, opts.sigmaMs);
    const [cx, cy, w, h] = fit ?? series[i - from];
    out[i] = { x: cx - w / 2, y: cy - h / 2, width: w, height: h };
  }
}

/** The value at t of a weighted quadratic (or linear) least-squares fit of the frames [lo, hi); undefined with one frame. */
function localFit(framesMs: readonly number[], series: readonly number[][], base: number, lo: number, hi: number, t: number, sigmaMs: number): number[] | undefined {
  if (hi - lo < 2) return undefined;
  const degree = hi - lo >= 5 ? 2 : 1;
  const m = degree + 1;
  // normal equations: sum w·u^(p+q) and sum w·u^p·y, u in units of sigma so they stay well scaled
  const A = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  const B = Array.from({ length: m }, () => new Array<number>(4).fill(0));
  for (let k = lo; k < hi; k++) {
    const u = (framesMs[k] - t) / sigmaMs;
    const w = Math.exp(-0.5 * u * u);
    const pow = [1, u, u * u];
    for (let p = 0; p < m; p++) {
      for (let q = 0; q < m; q++) A[p][q] += w * pow[p] * pow[q];
      for (let c = 0; c < 4; c++) B[p][c] += w * pow[p] * series[k - base][c];
    }
  }
  const x = solve(A, B);
  return x ? x[0] : undefined;
}

/** Solves A·X = B by Gaussian elimination with partial pivoting; undefined when A is (nearly) singular. */
function solve(A: number[][], B: number[][]): number[][] | undefined {
  const m = A.length;
  const a = A.map((r) => [...r]);
  const b = B.map((r) => [...r]);
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    if (Math.abs(a[p][c]) < 1e-9 * Math.max(1, Math.abs(a[0][0]))) return undefined;
    [a[c], a[p]] = [a[p], a[c]];
    [b[c], b[p]] = [b[p], b[c]];
    for (let r = 0; r < m; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      if (!f) continue;
      for (let k = c; k < m; k++) a[r][k] -= f * a[c][k];
      for (let k = 0; k < b[r].length; k++) b[r][k] -= f * b[c][k];
    }
  }
  return b.map((row, r) => row.map((v) => v / a[r][r]));
}

/** A box as integer corners, inside the frame (at least 1 px wide and high). */
function corners(b: Box, frame: { width: number; height: number }): BoxCorners {
  const x1 = clamp(Math.round(b.x), 0, frame.width - 1);
  const y1 = clamp(Math.round(b.y), 0, frame.height - 1);
  const x2 = clamp(Math.round(b.x + b.width), x1 + 1, frame.width);
  const y2 = clamp(Math.round(b.y + b.height), y1 + 1, frame.height);
  return [x1, y1, x2, y2];
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

const roundPoint = (p: Point2): Point2 => [Math.round(p[0]), Math.round(p[1])];
