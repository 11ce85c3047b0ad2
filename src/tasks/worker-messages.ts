import type { IdentifySummary } from '../pipeline/result-json.js';

export interface WorkerRequest {
  jobId: string;
  videoPath: string;
  outDir: string;
}

export type WorkerReply =
  | { type: 'progress'; jobId: string; fraction: number }
  | { type: 'done'; jobId: string; summary: IdentifySummary }
  | { type: 'failed'; jobId: string; code?: string; message: string };
