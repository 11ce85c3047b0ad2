import { oneFace, sameFace, squareAround, squareTiles } from '../vision/geometry.js';
import { largestChange } from '../vision/picture-change.js';
import { FaceTracker, missing, searchWindow } from './face-tracker.js';
import { lipsFollowedAt } from './lip-rate.js';
import { ObservationStore, Refiner } from './refiner.js';
import { Scheduler, type SamplingOptions } from './scheduler.js';
import type { TimeSpan } from '../analysis/types.js';
import type { FaceSighting, FrameMeta, FrameObservation, Observer } from './stages.js';

export interface FollowOptions {
  sampling: Pick<SamplingOptions, 'sampleEveryMs' | 'detectEveryMs' | 'tileEveryMs' | 'embedSamples'>;
  /** Source frame size (pixels), for tiles and search windows. */
  width: number;
  height: number;
  /** Nominal frame duration in ms. */
  frameMs: number;
  /** The oldest frame the observer can still look at, given the newest one (its frame buffer's reach). */
  oldestAvailable(newest: number): number;
  usable(s: FaceSighting): boolean;
  /**
   * Follow every face's lips this often (ms) while voice is heard (speech spans, ms; awaited
   * before the first frame), so mouth movement is measured at a rate fit for speech. Optional:
   * without it faces are measured at the sampling rate only.
   */
  lips?: { everyMs: number; speech: Promise<readonly TimeSpan[]> | readonly TimeSpan[] };
  /** Told each shot's analysed frames once they are final (at the hard cut that ends it; not for the last shot), and when the next shot starts. */
  onShotEnd?(observations: FrameObservation[], endMs: number): void;
}

/**
 * A periodic search for new faces is skipped while no thumbnail cell outside the followed faces
 * changed by this much (mean luma) since the whole frame was last searched: a face that walks in,
 * turns to the camera or is uncovered changes its cells by far more; grain and compression do not.
 * At most MAX_SKIPPED searches in a row are skipped: a face at the edge of what the detector sees
 * (blurred, small, turned) can be missed on one frame and found on a later one of an unchanged picture. A skipped search does
 * not count as one, so a face found later is still traced back to the last search that ran.
 */
const STILL_BELOW = 10;
export const MAX_SKIPPED = 1;
/** Around a followed face its hair, neck and shoulders move with it: they are left out of the comparison too. */
const FOLLOWED_AREA = 1.8;

export interface FollowedVideo {
  observations: FrameObservation[];
  /** The last frame of the video (undefined when there was none). */
  lastFrame?: FrameMeta;
  framesSeen: number;
}

/**
 * Runs the scheduler, observer, tracker and refiner stages over a video's frames, in order, and
 * returns every analysed frame with its faces. The frames' pixels stay with the caller (the
 * observer reads them by index); this loop only decides what to look at.
 */
export async function followFaces(frames: AsyncIterable<FrameMeta>, observer: Observer, opts: FollowOptions): Promise<FollowedVideo> {
  const store = new ObservationStore();
  const scheduler = new Scheduler(opts.sampling, opts.frameMs, squareTiles(opts.width, opts.height));
  const tracker = new FaceTracker();
  const lookAt = async (frame: FrameMeta, hints: FrameObservation['faces'][number]['box'][], detectIn: Parameters<Observer['look']>[1]['detectIn'] = [], embed = false) => {
    const obs: FrameObservation = {
      frame: frame.index,
      timeMs: frame.timeMs,
      cutBefore: frame.cutBefore,
      ...(frame.fromKeyMs !== undefined && { fromKeyMs: frame.fromKeyMs }),
      faces: await observer.look(frame.index, { hints, detectIn, embed }),
    };
    store.set(obs);
    return obs;
  };
  const metas = new Map<number, FrameMeta>();
  const refiner = new Refiner({
    store,
    lookAt: (frame, hints) => lookAt(metas.get(frame)!, [...hints]),
    seenAt: async (frame, hint) => (await observer.look(frame, { hints: [hint], detectIn: [], embed: false })).filter((f) => sameFace(f.box, hint)),
    usable: opts.usable,
  });

  let last: FrameObservation | undefined;
  let prev: FrameMeta | undefined;
  let shotStart = 0;
  let seen = 0;
  const speech = opts.lips ? await opts.lips.speech : [];
  // the lips are measured on a clock of everyMs: 15 a second at 24, 25, 30 or 60 frames a second
  // (at 25: 80 and 40 ms apart in turn), so the mouth signal is sampled alike at every frame rate;
  // a look before the clock is due (a sample the scheduler asked for) starts it again from there
  let lipsNextMs = -Infinity;
  const lipsClockDue = (t: number) => t >= lipsNextMs - opts.frameMs / 2;
  const looked = (t: number) => {
    if (!opts.lips) return;
    lipsNextMs = lipsClockDue(t) ? Math.max(lipsNextMs + opts.lips.everyMs, t + opts.lips.everyMs - opts.frameMs) : t + opts.lips.everyMs;
  };
  /** The picture when the whole frame was last searched. */
  let searchedPicture: Float32Array | undefined;
  let skipped = 0;
  for await (const frame of frames) {
    seen++;
    metas.set(frame.index, frame);
    // frames the observer can no longer see are not needed either
    const oldest = opts.oldestAvailable(frame.index);
    for (const k of metas.keys()) if (k < oldest) metas.delete(k);
    const previous = prev;
    prev = frame;
    let plan = scheduler.plan(frame);
    if (!plan) {
      // between samples, while voice is heard: the mesh on every followed face (mouth movement)
      if (opts.lips && last && !frame.cutBefore && lipsClockDue(frame.timeMs) && lipsFollowedAt(speech, frame.timeMs)) {
        const predicted = tracker.predict(frame.timeMs);
        if (predicted.length) {
          tracker.update(await lookAt(frame, predicted));
          looked(frame.timeMs);
        }
      }
      continue;
    }
    looked(frame.timeMs);

    if (last && frame.cutBefore && previous) {
      // the end of the old shot: its last frame, and several views of its faces for identity across the cut
      const before = store.get(previous.index) ?? (await lookAt(previous, tracker.predict(previous.timeMs)));
      const ending = store.between(Math.max(shotStart, oldest), before.frame).filter((o) => o.faces.length).slice(-opts.sampling.embedSamples);
      for (const o of ending) await observer.embed(o.frame, o.faces);
      await refiner.range(last.frame, before.frame);
      opts.onShotEnd?.(store.between(shotStart, before.frame), frame.timeMs);
      shotStart = frame.index;
      tracker.reset();
    }

    const predicted = frame.cutBefore ? [] : tracker.predict(frame.timeMs);
    if (plan.detectIn.length && last && !frame.cutBefore && searchedPicture && frame.thumb && skipped < MAX_SKIPPED) {
      const change = largestChange(searchedPicture, frame.thumb, opts.width, opts.height, predicted.map((p) => squareAround(p, FOLLOWED_AREA)));
      if (change < STILL_BELOW) {
        skipped++;
        plan = { ...plan, detectIn: [] };
      }
    }
    if (plan.detectIn.length) skipped = 0;
    if (plan.detectIn.includes(undefined)) searchedPicture = frame.thumb;
    const obs = await lookAt(frame, predicted, plan.detectIn, plan.embed);
    // a face that moved further than predicted: search around where it should be
    const lost = missing(predicted, obs.faces);
    if (lost.length) {
      const windows = lost.map((p) => searchWindow(p, opts.width, opts.height));
      const found = await observer.look(frame.index, { hints: [], detectIn: windows, embed: plan.embed });
      obs.faces.push(...found.filter((f) => !obs.faces.some((g) => oneFace(g.box, f.box))));
    }
    if (plan.detectIn.length) {
      const fresh = obs.faces.filter((f) => !predicted.some((p) => sameFace(p, f.box)) && !last?.faces.some((g) => sameFace(g.box, f.box)));
      await observer.embed(frame.index, fresh);
      if (last && !frame.cutBefore) {
        const notBefore = Math.max(scheduler.lookedBefore(plan.detectIn), oldest, shotStart - 1);
        for (const face of fresh) await refiner.backfill(face, obs, notBefore);
      }
      scheduler.searched(frame.index, plan.detectIn);
    }
    if (last && !frame.cutBefore) await refiner.range(last.frame, obs.frame);
    tracker.update(obs);
    last = obs;
  }

  if (last && prev && prev.index > last.frame) {
    const end = await lookAt(prev, tracker.predict(prev.timeMs));
    await refiner.range(last.frame, end.frame);
  }
  return { observations: store.all(), lastFrame: prev, framesSeen: seen };
}
