// Body of one analysis thread (a Node worker thread of AnalysisThreadPool): runs the engine on files the pool sends it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { loadEngineConfig } from '../config.js';
import { isKirinError } from '../errors.js';
import { identifyFile } from '../pipeline/identify-file.js';
import { summarize } from '../pipeline/result-json.js';
import { modelsSettled } from '../vision/models.js';
import type { RunJob, ThreadReply, ThreadRequest } from './analysis-thread-messages.js';

// V8's collector for this thread, which Worker execArgv cannot expose: the flag is set, then a
// fresh context sees `gc`.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const port = parentPort;
if (!port) throw new Error('analysis-thread must run in a worker thread');
const send = (m: ThreadReply) => port.postMessage(m);

/** The engine's settings, read once when the thread starts. */
const engine = loadEngineConfig(process.env);

let current: { jobId: string; abort: AbortController; done: Promise<void> } | undefined;

async function run(req: RunJob, signal: AbortSignal): Promise<void> {
  try {
    let lastSent = 0;
    const video = await identifyFile(req.videoPath, {
      outDir: req.outDir,
      engine,
      // every frame's time, so the task's per-frame tracks can be made when asked for
      frameTimes: true,
      signal,
      onProgress: (f) => {
        if (f - lastSent >= 0.02 || f === 1) {
          lastSent = f;
          send({ type: 'progress', jobId: req.jobId, fraction: f });
        }
      },
    });
    send({ type: 'done', jobId: req.jobId, summary: summarize(video) });
  } catch (e) {
    send({
      type: 'failed',
      jobId: req.jobId,
      code: isKirinError(e) ? e.code : undefined,
      message: e instanceof Error ? e.message : String(e),
    });
  }
}

port.on('message', async (req: ThreadRequest) => {
  if (req.type === 'run') {
    const abort = new AbortController();
    const job = { jobId: req.jobId, abort, done: run(req, abort.signal) };
    current = job;
    await job.done;
    if (current === job) current = undefined;
    // A job leaves hundreds of MB of decoded frames as garbage (ArrayBuffers, outside the JS
    // heap). An idle thread allocates nothing, so nothing would collect them until its next job:
    // a pool of two threads alone sat at ~1 GB after 12 jobs, ~465 MB with this collection (a few ms).
    collectGarbage();
  } else if (req.type === 'cancel') {
    if (current?.jobId === req.jobId) current.abort.abort(new Error('cancelled'));
  } else {
    // leave once nothing runs in native code: the job stopped and any model load finished
    current?.abort.abort(new Error('closing'));
    await current?.done;
    await modelsSettled();
    process.exit(0);
  }
});
