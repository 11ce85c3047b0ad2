import type { Box } from '../vision/geometry.js';
import type { FrameMeta } from './stages.js';

/** How the video is sampled: the defaults balance speed against how often boundaries need refining. */
export interface SamplingOptions {
  /** Longer side of the analysed frames (the source is scaled down to it). */
  analysisLongSide: number;
  /** Known faces are re-measured this often. */
  sampleEveryMs: number;
  /** The detector looks for new faces in the whole frame this often (and at every hard cut). */
  detectEveryMs: number;
  /** …and in one tile of the frame in turn this often, where small faces look larger. */
  tileEveryMs: number;
  /** Analysed frames embedded at the start of a shot (and at its end), so identity across a cut rests on several views. */
  embedSamples: number;
  /** Decode without the deblocking filter (cheaper; see decodeFrames). */
  skipLoopFilter: boolean;
  /** Leave out frames no other frame refers to (about half the decoding of a typical file; see decodeFrames). */
  skipNonReference: boolean;
}

export const DEFAULT_SAMPLING: SamplingOptions = {
  analysisLongSide: 640,
  sampleEveryMs: 400,
  detectEveryMs: 1000,
  tileEveryMs: 2000,
  embedSamples: 3,
  skipLoopFilter: true,
  skipNonReference: true,
};

/** What the observer is asked to do on one frame. */
export interface FramePlan {
  /** Regions for the detector (undefined = the whole frame); empty: follow known faces only. */
  detectIn: (Box | undefined)[];
  /** Embed every face found (the first views of a shot). */
  embed: boolean;
}

/**
 * The scheduler stage: decides which frames are analysed and which models run on them. Known
 * faces are followed every sampleEveryMs; the detector runs on the first frame, at every hard
 * cut, and every detectEveryMs to find faces that walk in, with one tile of the frame in turn
 * every tileEveryMs (small faces look larger there). A face lost between samples is searched
 * for around its predicted place at once (follow-faces.ts), not left to this schedule.
 */
export class Scheduler {
  private lastSampleMs = -Infinity;
  private lastDetectMs = -Infinity;
  private lastTileMs = -Infinity;
  private tileRounds = 0;
  private started = false;
  private embedLeft = 0;
  /** The last frame each region (whole frame, tiles) was searched. */
  private readonly lastLooked: number[];

  constructor(
    private readonly opts: Pick<SamplingOptions, 'sampleEveryMs' | 'detectEveryMs' | 'tileEveryMs' | 'embedSamples'>,
    /** Nominal frame duration: a sample due half a frame from now is taken now. */
    private readonly frameMs: number,
    /** Square tiles of the frame (source pixels). */
    private readonly tiles: readonly Box[],
  ) {
    this.lastLooked = [-1, ...tiles.map(() => -1)];
  }

  /** The plan for this frame, or null when it is not analysed. */
  plan(frame: FrameMeta): FramePlan | null {
    const first = !this.started;
    const due = frame.timeMs - this.lastSampleMs >= this.opts.sampleEveryMs - this.frameMs / 2;
    if (!first && !frame.cutBefore && !due) return null;
    this.started = true;
    this.lastSampleMs = frame.timeMs;
    if (first || frame.cutBefore) this.embedLeft = this.opts.embedSamples;
    const embed = this.embedLeft > 0;
    if (embed) this.embedLeft--;
    const detect = first || frame.cutBefore || frame.timeMs - this.lastDetectMs >= this.opts.detectEveryMs;
    if (!detect) return { detectIn: [], embed };
    this.lastDetectMs = frame.timeMs;
    if (first || frame.cutBefore) {
      this.lastTileMs = frame.timeMs;
      return { detectIn: [undefined, ...this.tiles], embed };
    }
    if (this.tiles.length && frame.timeMs - this.lastTileMs >= this.opts.tileEveryMs) {
      this.lastTileMs = frame.timeMs;
      return { detectIn: [undefined, this.tiles[this.tileRounds++ % this.tiles.length]], embed };
    }
    return { detectIn: [undefined], embed };
  }

  /** Records that `regions` of a plan were searched on `frame`. */
  searched(frame: number, regions: readonly (Box | undefined)[]): void {
    for (const r of regions) this.lastLooked[r === undefined ? 0 : 1 + this.tiles.indexOf(r)] = frame;
  }

  /** The frame since which all of `regions` have been searched (a face found there appeared after it). */
  lookedBefore(regions: readonly (Box | undefined)[]): number {
    return Math.min(...regions.map((r) => this.lastLooked[r === undefined ? 0 : 1 + this.tiles.indexOf(r)]));
  }
}
