import assert from 'node:assert/strict';
import { getPriority } from 'node:os';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

describe('analysis priority', () => {
  it("lowers the calling thread's priority by 8, once, and no other thread's", async () => {
    const mainBefore = getPriority();
    const module = new URL('../../src/pipeline/analysis-priority.ts', import.meta.url).href;
    // a thread of its own: the nice value is per thread on Linux, and this one stays as it is
    const worker = new Worker(
      `const { getPriority } = require('node:os');
       const { parentPort, workerData } = require('node:worker_threads');
       // a thread does not inherit the tsx loader: it registers it itself
       import('tsx/esm/api').then(({ register }) => register()).then(() => import(workerData.module)).then(({ lowerAnalysisPriority }) => {
         const before = getPriority();
         lowerAnalysisPriority();
         const once = getPriority();
         lowerAnalysisPriority();
         parentPort.postMessage({ before, once, twice: getPriority() });
       });`,
      { eval: true, workerData: { module } },
    );
    const seen = await new Promise<{ before: number; once: number; twice: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.equal(seen.once, Math.min(19, seen.before + 8));
    assert.equal(seen.twice, seen.once, 'once per thread');
    assert.equal(getPriority(), mainBefore, "the other threads' priority is left");
  });
});
