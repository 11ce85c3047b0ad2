import type { IdentifySummary } from '../pipeline/result-json.js';

export interface RunJob {
  type: 'run';
  jobId: string;
  videoPath: string;
  outDir: string;
}

/**
 * Pool → thread. A job is stopped by asking (`cancel`), never by terminating the thread: a thread
 * terminated while it is inside onnxruntime's native code takes the whole process down.
 */
export type ThreadRequest = RunJob | { type: 'cancel'; jobId: string } | { type: 'close' };

export type ThreadReply =
  | { type: 'progress'; jobId: string; fraction: number }
  | { type: 'done'; jobId: string; summary: IdentifySummary }
  | { type: 'failed'; jobId: string; code?: string; message: string };
