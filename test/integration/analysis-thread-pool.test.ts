import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AnalysisThreadPool } from '../../src/tasks/analysis-thread-pool.ts';
import { portrait } from '../helpers/face-photos.ts';
import { makeSegmentsVideo, makeTempDir, type TempDir } from '../helpers/make-video.ts';

// A thread terminated inside onnxruntime's native code aborts the whole process (this test
// process included), so these would crash rather than fail if the pool terminated busy threads.
describe('analysis worker pool', () => {
  let tmp: TempDir;
  let video: string;

  before(async () => {
    tmp = await makeTempDir('kirin-pool-');
    const a = await portrait('a', tmp.file('a.png'));
    ({ out: video } = await makeSegmentsVideo({ out: tmp.file('a.mp4'), segments: [{ seconds: 3, image: a, fit: 0.8 }], width: 1280, height: 720, fps: 30 }));
  });
  after(() => tmp.cleanup());

  it('cancels a job while its thread loads the models, then runs the next job on the same thread', async () => {
    const pool = new AnalysisThreadPool(1);
    try {
      const first = pool.run({ jobId: 'one', videoPath: video, outDir: tmp.file('one') }, () => undefined);
      const second = pool.run({ jobId: 'two', videoPath: video, outDir: tmp.file('two') }, () => undefined);
      await new Promise((r) => setTimeout(r, 300)); // the thread is starting up and loading the models
      pool.cancel('one', new Error('stop'));
      await assert.rejects(first, /stop/);
      const summary = await second;
      assert.equal(summary.faces.length, 1);
    } finally {
      await pool.close();
    }
  });

  it('closes while a job runs: the job is abandoned, the threads leave, the process lives on', async () => {
    const pool = new AnalysisThreadPool(2);
    const job = pool.run({ jobId: 'three', videoPath: video, outDir: tmp.file('three') }, () => undefined);
    job.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 800));
    await pool.close();
    assert.equal(pool.busy, 0);
  });
});
