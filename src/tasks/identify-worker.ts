// Body of one analysis worker thread: runs the engine on files the pool sends it.
import { parentPort } from 'node:worker_threads';
import { isKirinError } from '../errors.js';
import { identifyFile } from '../pipeline/identify-file.js';
import { summarize } from '../pipeline/result-json.js';
import type { WorkerReply, WorkerRequest } from './worker-messages.js';

const port = parentPort;
if (!port) throw new Error('identify-worker must run in a worker thread');

port.on('message', async (req: WorkerRequest) => {
  const send = (m: WorkerReply) => port.postMessage(m);
  try {
    let lastSent = 0;
    const video = await identifyFile(req.videoPath, {
      outDir: req.outDir,
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
});
