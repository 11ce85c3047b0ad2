import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { UrlSigner } from '../api/signed-urls.js';
import type { Clock } from '../clock.js';
import type { ServiceConfig } from '../config.js';
import { ErrorCode, KirinError, isKirinError } from '../errors.js';
import { downloadVideo } from '../media/download.js';
import { buildResultJson, buildSessionDocument, newRequestId, type IdentifySummary } from '../pipeline/result-json.js';
import type { BlobStore } from '../storage/blobs.js';
import { newId } from '../storage/ids.js';
import type { Repositories, Task, TaskEnd } from '../storage/repositories/index.js';
import { deleteSessionTracks, gzipJson, putGzipped, storedTracks, tracksKey } from '../storage/session-tracks.js';
import type { TaskService } from './task-service.js';
import type { AnalysisThreadPool } from './analysis-thread-pool.js';

export type { Task } from '../storage/repositories/index.js';

/** This process, as recorded in `tasks.worker`. */
export const processName = `${hostname()}:${process.pid}`;

export interface ExecutorDeps {
  repositories: Repositories;
  config: ServiceConfig;
  clock: Clock;
  blobs: BlobStore;
  pool: AnalysisThreadPool;
  signer: UrlSigner;
  tasks: TaskService;
}

/** What an error that ends an attempt means: the task fails now, or it is left for another attempt (rethrown). */
export type ErrorPolicy = (e: unknown) => 'fail' | 'retry';

export const wasCancelled = (signal: AbortSignal) => signal.aborted && isKirinError(signal.reason) && signal.reason.code === ErrorCode.Cancelled;

/**
 * Processes one claimed task: fetches its video, analyses it in the worker pool, stores the face
 * pictures, and ends the task. Ending is one transaction guarded by `status = 'processing'` that
 * also stores the session, the pictures' rows and the callback: a task processed twice (a queue
 * delivers at least once) is completed, charged and called back once; the second run's pictures
 * are deleted again.
 */
export class TaskExecutor {
  constructor(private readonly d: ExecutorDeps) {}

  /** Takes a task by id for this process while it has not ended (so a redelivered one too); undefined otherwise. */
  claim(taskId: string): Promise<Task | undefined> {
    return this.d.repositories.tasks.claim(taskId, ['pending', 'processing'], { process: processName, now: this.d.clock.now() });
  }

  /** Takes the oldest pending task for this process; undefined when none waits. */
  claimNext(): Promise<Task | undefined> {
    return this.d.repositories.tasks.claimOldestPending({ process: processName, now: this.d.clock.now() });
  }

  /** Runs the task to its end state; an error the policy calls 'retry' is rethrown with the task left `processing`. */
  async run(task: Task, signal: AbortSignal, onError: ErrorPolicy): Promise<void> {
    const { repositories, clock, blobs } = this.d;
    const work = join(blobs.tempDir(), `${task.id}-${randomBytes(4).toString('hex')}`);
    let failure: { code: string; message: string } | undefined;
    try {
      await mkdir(work, { recursive: true });
      const videoPath = await this.sourceVideo(task, work, signal);
      let lastWrite = 0;
      const summary = await this.d.pool.run({ jobId: task.id, videoPath, outDir: join(work, 'faces') }, (f) => {
        if (clock.now() - lastWrite < 500) return;
        lastWrite = clock.now();
        void repositories.tasks.setProgress(task.id, Math.min(0.99, 0.05 + 0.95 * f)).catch(() => undefined);
      });
      signal.throwIfAborted();
      await this.complete(task, summary, work);
    } catch (e) {
      if (wasCancelled(signal)) return;
      if (onError(e) === 'retry') throw e;
      failure = {
        code: isKirinError(e) ? e.code : ErrorCode.Internal,
        message: isKirinError(e) ? e.message : `internal error: ${e instanceof Error ? e.message : String(e)}`,
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    // failed only once its scratch files are gone: whoever sees the end sees nothing left behind
    if (failure) await this.finish(task.id, { status: 'failed', error_code: failure.code, error_message: failure.message, completed_at: clock.now() });
  }

  /** A local path to the task's video: an upload from the blob store, or the URL fetched into it. */
  private async sourceVideo(task: Task, work: string, signal: AbortSignal): Promise<string> {
    const { repositories, blobs, clock, config } = this.d;
    if (task.video_id) {
      const v = await repositories.videos.find(task.video_id);
      if (!v || !(await blobs.exists(v.blob_key))) throw new KirinError(ErrorCode.VideoIdUnknown, `video_id ${task.video_id} is unknown or expired`);
      return blobs.localPath(v.blob_key, work);
    }
    const key = `fetched/${task.id}.video`;
    let local: string | undefined; // the video just fetched: not read back from the store
    if (!(await blobs.exists(key))) {
      const tmp = join(work, 'download.video');
      await downloadVideo(task.video_url!, tmp, { allowPrivate: config.allowPrivateUrls, signal });
      local = await blobs.putFileKeepingLocal(key, tmp);
      await repositories.videos.addFetched({ blob_key: key, task_id: task.id, expires_at: clock.now() + config.retentionMs });
    }
    await repositories.tasks.setProgress(task.id, 0.05);
    return local ?? blobs.localPath(key, work);
  }

  private async complete(task: Task, summary: IdentifySummary, work: string): Promise<void> {
    const { blobs, clock, config, signer } = this.d;
    const now = clock.now();
    const sessionId = newId('sess');
    const expiresAt = now + config.retentionMs;
    const fileIds = new Map<string, string>();
    const pictureKey = (faceId: string) => `faces/${sessionId}/${faceId}.jpg`;
    for (const face of summary.faces) {
      await blobs.putFile(pictureKey(face.face_id), face.picture_file);
      fileIds.set(face.face_id, newId('file'));
    }
    // the tracks (per-face states and boxes, and what per-frame tracks are made from): a blob
    await putGzipped(blobs, tracksKey(sessionId), await gzipJson(storedTracks(summary)));
    // completed only once its scratch files are gone, as a failure: whoever sees the end sees nothing left behind
    await rm(work, { recursive: true, force: true });
    const result = buildResultJson(summary, {
      sessionId,
      requestId: newRequestId(),
      finalUnitDeduction: config.pricing.unitsPerTask,
      imageUrl: (face) => signer.url(fileIds.get(face.face_id)!, expiresAt),
    });
    const sessionData = buildSessionDocument(summary, (faceId) => fileIds.get(faceId)!);
    const won = await this.finish(
      task.id,
      {
        status: 'completed',
        progress: 1,
        completed_at: now,
        result_text: JSON.stringify(result),
        cost_usd: config.pricing.costPerTaskUsd,
        video_meta: JSON.stringify(summary.video),
      },
      async (tx) => {
        await tx.sessions.insert({ id: sessionId, owner: task.owner, task_id: task.id, data: JSON.stringify(sessionData), created_at: now, expires_at: expiresAt });
        for (const f of summary.faces) {
          await tx.files.insert({ id: fileIds.get(f.face_id)!, session_id: sessionId, blob_key: pictureKey(f.face_id), content_type: 'image/jpeg', created_at: now, expires_at: expiresAt });
        }
      },
    );
    // another run of the same task ended it first (or it was cancelled): these pictures and tracks belong to nothing
    if (!won) {
      for (const f of summary.faces) await blobs.delete(pictureKey(f.face_id)).catch(() => undefined);
      await deleteSessionTracks(blobs, sessionId).catch(() => undefined);
    }
  }

  private finish(taskId: string, set: TaskEnd, also?: (tx: Repositories) => Promise<void>): Promise<boolean> {
    return this.d.tasks.end(taskId, set, { also });
  }
}
