import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeObservations } from '../../src/analysis/analyze.ts';
import { DEFAULT_ANALYSIS_CONFIG as cfg } from '../../src/analysis/config.ts';
import { groupPersons, meanAppearance } from '../../src/analysis/persons.ts';
import type { FrameObservation } from '../../src/analysis/types.ts';
import { face, frameMs, frames, person } from './analysis-fixtures.ts';

const analyse = (obs: FrameObservation[], lastFrame: number) => analyzeObservations({ observations: obs, videoEndMs: frameMs(lastFrame) }, cfg);
const ids = (r: ReturnType<typeof analyse>) => r.faces.map((f) => [f.faceId, f.personId, Math.round(f.startMs), Math.round(f.endMs)]);

/** Sightings embedded every 10th frame, as the observer embeds a few views of each shot. */
const seen = (x: number, who: number) => (f: number) => [face(x, f % 10 === 0 ? { embedding: person(who) } : {})];

describe('person_id: one id per person across face_ids', () => {
  it('the same person back after a 1.5 s gap: two face_ids, one person_id', () => {
    // frames 0–89 (3 s), unseen 90–134 (1.5 s), back 135–224 in the same place
    const obs = [...frames(0, 90, seen(300, 1)), ...frames(90, 135, () => []), ...frames(135, 225, seen(300, 1))];
    assert.deepEqual(ids(analyse(obs, 225)), [['0', 'person_0', 0, 3000], ['1', 'person_0', 4500, 7500]]);
  });

  it('someone else after the gap: two person_ids', () => {
    const obs = [...frames(0, 90, seen(300, 1)), ...frames(90, 135, () => []), ...frames(135, 225, seen(300, 2))];
    assert.deepEqual(ids(analyse(obs, 225)), [['0', 'person_0', 0, 3000], ['1', 'person_1', 4500, 7500]]);
  });

  it('the same person in another place after a cut (a new face_id) keeps the person_id; a third person does not', () => {
    const obs = [...frames(0, 90, seen(100, 1)), ...frames(90, 180, seen(900, 1)), ...frames(180, 270, seen(500, 3))];
    obs[90].cutBefore = true;
    obs[180].cutBefore = true;
    assert.deepEqual(ids(analyse(obs, 270)), [['0', 'person_0', 0, 3000], ['1', 'person_0', 3000, 6000], ['2', 'person_1', 6000, 9000]]);
  });

  it('a person seen in three stretches, another between: ids in order of first appearance', () => {
    const obs = [
      ...frames(0, 90, seen(300, 2)),
      ...frames(90, 150, () => []),
      ...frames(150, 240, seen(300, 1)),
      ...frames(240, 300, () => []),
      ...frames(300, 390, seen(300, 2)),
      ...frames(390, 450, () => []),
      ...frames(450, 540, seen(300, 2)),
    ];
    const persons = analyse(obs, 540).faces.map((f) => f.personId);
    assert.deepEqual(persons, ['person_0', 'person_1', 'person_0', 'person_0']);
  });

  it('a rejected face shares the person_id of that person\'s accepted faces', () => {
    // 3 s, then unseen 1.5 s, then only 1 s of the same person (too short)
    const obs = [...frames(0, 90, seen(300, 1)), ...frames(90, 135, () => []), ...frames(135, 165, seen(300, 1))];
    const r = analyse(obs, 165);
    assert.deepEqual(ids(r), [['0', 'person_0', 0, 3000]]);
    assert.deepEqual(r.rejected.map((x) => [x.reason, x.personId]), [['too_short', 'person_0']]);
  });

  it('two faces on screen together are two persons, however alike', () => {
    const obs = frames(0, 90, (f) => [face(100, f % 10 === 0 ? { embedding: person(1) } : {}), face(900, f % 10 === 0 ? { embedding: person(1) } : {})]);
    assert.deepEqual(analyse(obs, 90).faces.map((f) => f.personId), ['person_0', 'person_1']);
  });

  it('people who appear together are numbered left to right, as their face_ids are', () => {
    // the right-hand face is listed first in every frame (detection order is not left to right)
    const obs = frames(0, 90, (f) => [face(900, f % 10 === 0 ? { embedding: person(2) } : {}), face(100, f % 10 === 0 ? { embedding: person(1) } : {})]);
    const r = analyse(obs, 90);
    assert.deepEqual(r.faces.map((f) => [f.faceId, Math.round(f.best.sighting.box.x), f.personId]), [['0', 100, 'person_0'], ['1', 900, 'person_1']]);
  });

  it('groupPersons: average linkage at the threshold, overlap never merged, no appearance alone', () => {
    const v = (...xs: number[]) => {
      const a = new Float32Array(xs);
      return meanAppearance([a])!;
    };
    const similar = cfg.samePersonSimilarity;
    // a and b alike above the threshold, c just below it; d has no appearance; e overlaps a (and
    // is as alike to b as a is, but a group with a cannot take it)
    const a = v(1, 0, 0);
    const b = v(1, 0.05, 0); // cos ≈ 0.9988
    const c = v(similar - 0.02, Math.sqrt(1 - (similar - 0.02) ** 2), 0); // cos = similar - 0.02
    const groups = groupPersons(
      [
        { startMs: 0, endMs: 1000, appearance: a },
        { startMs: 3000, endMs: 4000, appearance: b },
        { startMs: 6000, endMs: 7000, appearance: c },
        { startMs: 8000, endMs: 9000 },
        { startMs: 500, endMs: 1500, appearance: v(1, -0.01, 0) },
      ],
      cfg,
    );
    assert.deepEqual(groups, ['person_0', 'person_0', 'person_2', 'person_3', 'person_1']);
  });
});
