// The analysis stages driven by scripted upstreams: no video, no models.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeObservations } from '../../src/analysis/analyze.js';
import { DEFAULT_ANALYSIS_CONFIG as cfg } from '../../src/analysis/config.js';
import { FaceTracker, missing, searchWindow } from '../../src/pipeline/face-tracker.js';
import { followFaces, type FollowOptions } from '../../src/pipeline/follow-faces.js';
import { ObservationStore, Refiner } from '../../src/pipeline/refiner.js';
import { DEFAULT_SAMPLING, Scheduler } from '../../src/pipeline/scheduler.js';
import type { FaceSighting, FrameMeta, FrameObservation, LookRequest, Observer } from '../../src/pipeline/stages.js';
import { boxCenter, type Box } from '../../src/vision/geometry.js';
import { face, person } from './analysis-fixtures.js';

const FPS = 30;
const ms = (frame: number) => Math.round((frame * 1000) / FPS);
const meta = (index: number, cutBefore = false): FrameMeta => ({ index, timeMs: ms(index), cutBefore });

interface WorldFace {
  id: number;
  box: Box;
}

/**
 * A fake observer over a scripted world. Like the mesh, a hint finds a face only near it (its
 * centre within 0.4 of the hint's size); like the detector, a region finds every face whose
 * centre is inside it. It counts what it is asked to do.
 */
class ScriptedObserver implements Observer {
  readonly looks: { frame: number; req: LookRequest }[] = [];
  readonly embedded: number[] = [];

  constructor(private readonly world: (frame: number) => WorldFace[]) {}

  async look(frame: number, req: LookRequest): Promise<FaceSighting[]> {
    this.looks.push({ frame, req });
    const found = this.world(frame).filter((f) => {
      const [cx, cy] = boxCenter(f.box);
      const byHint = req.hints.some((h) => {
        const [hx, hy] = boxCenter(h);
        return Math.hypot(cx - hx, cy - hy) <= 0.4 * Math.max(h.width, h.height);
      });
      const byDetector = req.detectIn.some((r) => !r || (cx >= r.x && cx <= r.x + r.width && cy >= r.y && cy <= r.y + r.height));
      return byHint || byDetector;
    });
    if (req.embed) this.embedded.push(frame);
    return found.map((f) => face(f.box.x, { box: { ...f.box }, ...(req.embed ? { embedding: person(f.id) } : {}) }));
  }

  async embed(frame: number, faces: FaceSighting[]): Promise<void> {
    if (faces.some((f) => !f.embedding)) this.embedded.push(frame);
    const world = this.world(frame);
    for (const s of faces) {
      const w = world.find((f) => Math.abs(f.box.x - s.box.x) < 1 && Math.abs(f.box.y - s.box.y) < 1);
      if (w) s.embedding ??= person(w.id);
    }
  }
}

async function* scripted(count: number, cuts: readonly number[] = [], picture?: (frame: number) => Float32Array): AsyncGenerator<FrameMeta> {
  for (let i = 0; i < count; i++) yield { ...meta(i, cuts.includes(i)), ...(picture ? { thumb: picture(i) } : {}) };
}

/** A 32×18 thumbnail of a 1920×1080 frame: grey, brighter in the cells of each box. */
function thumbOf(boxes: readonly Box[]): Float32Array {
  const t = new Float32Array(32 * 18).fill(100);
  for (const b of boxes) {
    for (let r = Math.floor((b.y / 1080) * 18); r <= Math.floor(((b.y + b.height) / 1080) * 18); r++) {
      for (let c = Math.floor((b.x / 1920) * 32); c <= Math.floor(((b.x + b.width) / 1920) * 32); c++) t[r * 32 + c] = 180;
    }
  }
  return t;
}

const followOptions = (lips?: FollowOptions['lips'], frameMs = 1000 / FPS): FollowOptions => ({
  sampling: DEFAULT_SAMPLING,
  width: 1920,
  height: 1080,
  frameMs,
  oldestAvailable: (newest) => newest - 200,
  usable: () => true,
  lips,
});
const follow = (observer: Observer, count: number, cuts: readonly number[] = [], lips?: FollowOptions['lips'], picture?: (frame: number) => Float32Array) =>
  followFaces(scripted(count, cuts, picture), observer, followOptions(lips));

const box = (x: number, y = 400, side = 120): Box => ({ x, y, width: side, height: side });

describe('scheduler', () => {
  it('samples every 400 ms, detects at the start, at cuts and every second, embeds the first views of a shot', () => {
    const s = new Scheduler(DEFAULT_SAMPLING, 1000 / FPS, [box(0, 0, 1080), box(840, 0, 1080)]);
    const plans = new Map<number, ReturnType<Scheduler['plan']>>();
    for (let i = 0; i < 120; i++) {
      const p = s.plan(meta(i, i === 70));
      if (p) plans.set(i, p);
    }
    assert.deepEqual([...plans.keys()], [0, 12, 24, 36, 48, 60, 70, 82, 94, 106, 118]);
    assert.equal(plans.get(0)!.detectIn.length, 3, 'the whole frame and both tiles at the start');
    assert.equal(plans.get(70)!.detectIn.length, 3, 'and at a cut');
    assert.deepEqual([...plans].filter(([, p]) => p!.detectIn.length).map(([f]) => f), [0, 36, 70, 106]);
    assert.deepEqual([...plans].filter(([, p]) => p!.embed).map(([f]) => f), [0, 12, 24, 70, 82, 94]);
  });
});

describe('tracker', () => {
  it('predicts a walking face from its last two sightings and reports one it lost', () => {
    const t = new FaceTracker();
    const obs = (frame: number, boxes: Box[]): FrameObservation => ({ frame, timeMs: ms(frame), cutBefore: false, faces: boxes.map((b) => face(b.x, { box: b })) });
    t.update(obs(0, [box(100)]));
    t.update(obs(12, [box(300)]));
    const [p] = t.predict(ms(24));
    assert.ok(Math.abs(p.x - 500) < 2, `predicted x ${p.x}`);
    assert.deepEqual(missing(t.predict(ms(24)), [face(0, { box: box(1500) })]).length, 1);
    const w = searchWindow(p, 1920, 1080);
    assert.ok(w.width === 360 && w.x <= p.x && w.x + w.width >= p.x + p.width);
  });
});

describe('refiner', () => {
  it('bisects to the exact frame a face appears, with a few looks', async () => {
    const world = (f: number) => (f >= 37 ? [{ id: 1, box: box(300) }] : []);
    const observer = new ScriptedObserver(world);
    const store = new ObservationStore();
    const lookAt = async (frame: number, hints: readonly Box[]) => {
      const o = { frame, timeMs: ms(frame), cutBefore: false, faces: await observer.look(frame, { hints, detectIn: [], embed: false }) };
      store.set(o);
      return o;
    };
    const refiner = new Refiner({ store, lookAt, seenAt: async (f, h) => observer.look(f, { hints: [h], detectIn: [], embed: false }), usable: () => true });
    const a = { frame: 24, timeMs: ms(24), cutBefore: false, faces: [] };
    const b = { frame: 48, timeMs: ms(48), cutBefore: false, faces: [face(300, { box: box(300) })] };
    store.set(a);
    store.set(b);
    await refiner.between(a, b);
    const seen = store.all().filter((o) => o.faces.length).map((o) => o.frame);
    assert.equal(Math.min(...seen), 37);
    assert.ok(store.all().some((o) => o.frame === 36 && o.faces.length === 0));
    assert.ok(observer.looks.length <= 5, `${observer.looks.length} looks`);
  });

  it('changes nothing where the neighbouring frames agree', async () => {
    const observer = new ScriptedObserver(() => [{ id: 1, box: box(300) }]);
    const store = new ObservationStore();
    const refiner = new Refiner({ store, lookAt: async () => assert.fail('no look expected'), seenAt: async () => [], usable: () => true });
    const o = (frame: number) => ({ frame, timeMs: ms(frame), cutBefore: false, faces: [face(300, { box: box(300) })] });
    await refiner.between(o(0), o(12));
    assert.equal(observer.looks.length, 0);
  });
});

describe('followFaces over a scripted world', () => {
  it('keeps one track on a face crossing the frame fast', async () => {
    // 15 px a frame: 180 px between samples, well beyond what a hint at the old place finds
    const world = (f: number) => [{ id: 1, box: box(100 + 15 * f) }];
    const observer = new ScriptedObserver(world);
    const followed = await follow(observer, 100);
    const faces = analyzeObservations({ observations: followed.observations, videoEndMs: ms(100) }, cfg);
    assert.equal(faces.faces.length + faces.rejected.length, 1);
    assert.deepEqual([faces.faces[0].startMs, faces.faces[0].endMs], [0, ms(100)]);
    assert.ok(followed.observations.every((o) => o.faces.length === 1), 'the face is on every analysed frame');
  });

  it('finds a face that walks in between detections, from the frame it appears on', async () => {
    const world = (f: number) => (f >= 50 ? [{ id: 1, box: box(600) }] : []);
    const observer = new ScriptedObserver(world);
    const followed = await follow(observer, 120);
    const first = followed.observations.find((o) => o.faces.length)!;
    assert.equal(first.frame, 50);
    assert.ok(followed.observations.filter((o) => o.frame > 50).every((o) => o.faces.length === 1));
    const r = analyzeObservations({ observations: followed.observations, videoEndMs: ms(120) }, cfg);
    assert.deepEqual(r.faces.map((f) => [f.startMs, f.endMs]), [[ms(50), ms(120)]]);
  });

  it('embeds several views on each side of a hard cut, and tells two people in one place apart', async () => {
    const world = (f: number) => [{ id: f < 60 ? 1 : 2, box: box(600) }];
    const observer = new ScriptedObserver(world);
    const followed = await follow(observer, 120, [60]);
    const before = observer.embedded.filter((f) => f < 60 && f > 0);
    const after = observer.embedded.filter((f) => f >= 60);
    assert.ok(before.length >= 2 && after.length >= 3, `embedded ${observer.embedded.join(',')}`);
    const r = analyzeObservations({ observations: followed.observations, videoEndMs: ms(120) }, cfg);
    assert.deepEqual(r.faces.map((f) => [f.startMs, f.endMs]), [[0, 2000], [2000, 4000]]);
  });

  it('skips the periodic search for new faces while nothing changed outside the followed faces', async () => {
    const world = () => [{ id: 1, box: box(600) }];
    const observer = new ScriptedObserver(world);
    await follow(observer, 300, [], undefined, () => thumbOf([box(600)]));
    const searches = observer.looks.filter((l) => l.req.detectIn.length).map((l) => l.frame);
    assert.deepEqual(searches, [0, 72, 144, 216, 288], 'the first frame, then every other periodic search');
    const unwatched = new ScriptedObserver(world);
    await follow(unwatched, 300);
    assert.ok(unwatched.looks.filter((l) => l.req.detectIn.length).length >= 9, 'without thumbnails, every second');
  });

  it('searches again once a face walks in, and still finds the frame it appeared on', async () => {
    const faces = (f: number) => [{ id: 1, box: box(600) }, ...(f >= 50 ? [{ id: 2, box: box(1400) }] : [])];
    const observer = new ScriptedObserver(faces);
    const followed = await follow(observer, 150, [], undefined, (f) => thumbOf(faces(f).map((w) => w.box)));
    const r = analyzeObservations({ observations: followed.observations, videoEndMs: ms(150) }, cfg);
    assert.deepEqual(r.faces.map((f) => [f.startMs, f.endMs]), [[0, ms(150)], [ms(50), ms(150)]]);
    const searches = observer.looks.filter((l) => l.req.detectIn.length).map((l) => l.frame);
    assert.ok(searches.length >= 2 && searches.length <= 4, `searched on ${searches.join(',')}`);
  });

  it('follows the lips at 15 frames a second while voice is heard, and only then', async () => {
    const observer = new ScriptedObserver(() => [{ id: 1, box: box(600) }]);
    const followed = await follow(observer, 180, [], { everyMs: 1000 / 15, speech: Promise.resolve([{ startMs: 2000, endMs: 4000 }]) });
    const times = followed.observations.map((o) => o.timeMs);
    const within = (a: number, b: number) => times.filter((t) => t >= a && t < b).length;
    assert.ok(within(2000, 4000) >= 30, `${within(2000, 4000)} looks in 2 s of speech`);
    assert.ok(within(0, 1000) <= 4 && within(5000, 6000) <= 4, 'the sampling rate alone away from the voice');
    assert.ok(followed.observations.every((o) => o.faces.length === 1));
  });

  it('follows the lips 15 times a second at 25 frames a second too: 80 and 40 ms apart in turn', async () => {
    const observer = new ScriptedObserver(() => [{ id: 1, box: box(600) }]);
    async function* at25(): AsyncGenerator<FrameMeta> {
      for (let i = 0; i < 150; i++) yield { index: i, timeMs: i * 40, cutBefore: false };
    }
    const followed = await followFaces(at25(), observer, followOptions({ everyMs: 1000 / 15, speech: [{ startMs: 2000, endMs: 4000 }] }, 40));
    const times = followed.observations.map((o) => o.timeMs).filter((t) => t >= 2000 && t < 4000);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(times.length >= 29 && times.length <= 32, `${times.length} looks in 2 s of speech`);
    assert.ok(Math.max(...gaps) <= 80, `looks up to ${Math.max(...gaps)} ms apart`);
  });
});
