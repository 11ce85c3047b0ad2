import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identifyFile } from '../../src/pipeline/identify-file.ts';
import { buildResultJson, summarize } from '../../src/pipeline/result-json.ts';
import { portrait } from '../helpers/face-photos.ts';
import { makeSegmentsVideo, makeTempDir, type Segment, type TempDir } from '../helpers/make-video.ts';

/** person_id judged by appearance through the real models, on videos made from the demo photos. */
describe('person_id end to end', () => {
  let tmp: TempDir;
  let a: string, c: string;

  before(async () => {
    tmp = await makeTempDir('kirin-persons-');
    [a, c] = await Promise.all((['a', 'c'] as const).map((p) => portrait(p, tmp.file(`${p}.png`))));
  });
  after(() => tmp.cleanup());

  const faceData = async (name: string, segments: Segment[]) => {
    const { out } = await makeSegmentsVideo({ out: tmp.file(`${name}.mp4`), segments, width: 1280, height: 720, fps: 30 });
    const video = await identifyFile(out, { outDir: tmp.file(`${name}-faces`), audio: false });
    return buildResultJson(summarize(video), { imageUrl: () => '' }).data.face_data.map((f) => [f.face_id, f.person_id, f.start_time, f.end_time]);
  };

  it('the same photo, 1.5 s of blank, the same photo again: two face_ids, one person_id', async () => {
    const faces = await faceData('same', [{ seconds: 2.5, image: a, fit: 0.8 }, { seconds: 1.5, blank: true }, { seconds: 2.5, image: a, fit: 0.8 }]);
    assert.deepEqual(faces, [['0', 'person_0', 0, 2500], ['1', 'person_0', 4000, 6500]]);
  });

  it('two different people in turn, with the same gap: two person_ids', async () => {
    const faces = await faceData('other', [{ seconds: 2.5, image: a, fit: 0.8 }, { seconds: 1.5, blank: true }, { seconds: 2.5, image: c, fit: 0.8 }]);
    assert.deepEqual(faces, [['0', 'person_0', 0, 2500], ['1', 'person_1', 4000, 6500]]);
  });
});
