import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { UrlSigner } from '../api/signed-urls.js';
import type { Clock } from '../clock.js';
import type { ServiceConfig } from '../config.js';
import { ErrorCode, KirinError, isKirinError } from '../errors.js';
import { downloadVideo } from '../media/download.js';
import { buildResultJson, newRequestId, type IdentifySummary } from '../pipeline/result-json.js';
import type { LocalBlobStore } from '../storage/blobs.js';
import type { Db } from '../storage/database.js';
import { newId } from '../storage/ids.js';
import type { TaskTable } from '../storage/schema.js';
import type { TaskService } from './task-service.js';
import type { WorkerPool } from './worker-pool.js';

type Task = Omit<TaskTable, 'attempts'>;

export interface RunnerDeps {
  db: Db;
  config: ServiceConfig;
  clock: Clock;
  blobs: LocalBlobStore;
  pool: WorkerPool;
  signer: UrlSigner;
  tasks: TaskService;
}

/**
 * The embedded queue: tasks wait in the database as `pending`; up to `workers` of them are
 * claimed at a time and processed. On start, tasks left `processing` by a crash go back to
 * `pending`. A task finishes in one transaction guarded by `status = 'processing'`, so a task
 * that was cancelled meanwhile, or finished twice, is neither overwritten nor charged twice.
 */
export class TaskRunner {
  private running = new Map<string, AbortController>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private pumping = false;

  constructor(private readonly d: RunnerDeps) {}

  async start(): Promise<void> {
    await this.d.db.updateTable('tasks').set({ status: 'pending', progress: 0 }).where('status', '=', 'processing').execute();
    this.timer = setInterval(() => this.pump(), 1000);
    this.pump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const ac of this.running.values()) ac.abort(new Error('shutting down'));
  }

  /** Number of tasks being processed right now. */
  get active(): number {
    return this.running.size;
  }

  cancel(taskId: string): void {
    const ac = this.running.get(taskId);
    if (!ac) return;
    const reason = new KirinError(ErrorCode.Cancelled, 'cancelled by its owner');
    ac.abort(reason);
    this.d.pool.cancel(taskId, reason);
  }

  /** Claims pending tasks while there is room. */
  pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    void (async () => {
      try {
        while (!this.stopped && this.running.size < this.d.config.workers) {
          const task = await this.claim();
          if (!task) break;
          const ac = new AbortController();
          this.running.set(task.id, ac);
          void this.process(task, ac.signal).finally(() => {
            this.running.delete(task.id);
            this.pump();
          });
        }
      } finally {
        this.pumping = false;
      }
    })();
  }

  private async claim(): Promise<Task | undefined> {
    const now = this.d.clock.now();
    return this.d.db.transaction().execute(async (trx) => {
      const next = await trx.selectFrom('tasks').select('id').where('status', '=', 'pending').orderBy('created_at').limit(1).executeTakeFirst();
      if (!next) return undefined;
      return trx
        .updateTable('tasks')
        .set((eb) => ({ status: 'processing', started_at: now, progress: 0, attempts: eb('attempts', '+', 1) }))
        .where('id', '=', next.id)
        .where('status', '=', 'pending')
        .returningAll()
        .executeTakeFirst();
    });
  }

  private async process(task: Task, signal: AbortSignal): Promise<void> {
    const { db, clock, blobs } = this.d;
    const work = join(blobs.tempDir(), task.id);
    try {
      await mkdir(work, { recursive: true });
      const videoPath = await this.sourceVideo(task, work, signal);
      let lastWrite = 0;
      const summary = await this.d.pool.run({ jobId: task.id, videoPath, outDir: join(work, 'faces') }, (f) => {
        if (clock.now() - lastWrite < 500) return;
        lastWrite = clock.now();
        void db.updateTable('tasks').set({ progress: Math.min(0.99, 0.05 + 0.95 * f) }).where('id', '=', task.id).where('status', '=', 'processing').execute();
      });
      signal.throwIfAborted();
      await this.complete(task, summary);
    } catch (e) {
      if (signal.aborted && isKirinError(signal.reason) && signal.reason.code === ErrorCode.Cancelled) return;
      if (this.stopped) return; // shutting down: the task stays `processing` and is redone on restart
      const code = isKirinError(e) ? e.code : ErrorCode.Internal;
      const message = isKirinError(e) ? e.message : `internal error: ${e instanceof Error ? e.message : String(e)}`;
      await this.finish(task.id, { status: 'failed', error_code: code, error_message: message, completed_at: clock.now() });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** A local path to the task's video: an upload from the blob store, or the URL fetched into it. */
  private async sourceVideo(task: Task, work: string, signal: AbortSignal): Promise<string> {
    const { db, blobs, clock, config } = this.d;
    if (task.video_id) {
      const v = await db.selectFrom('videos').select(['blob_key', 'expires_at']).where('id', '=', task.video_id).executeTakeFirst();
      if (!v || !(await blobs.exists(v.blob_key))) throw new KirinError(ErrorCode.VideoIdUnknown, `video_id ${task.video_id} is unknown or expired`);
      return blobs.localPath(v.blob_key);
    }
    const key = `fetched/${task.id}.video`;
    if (!(await blobs.exists(key))) {
      const tmp = join(work, 'download.video');
      await downloadVideo(task.video_url!, tmp, { allowPrivate: config.allowPrivateUrls, signal });
      await blobs.putFile(key, tmp);
      await db
        .insertInto('fetched_videos')
        .values({ blob_key: key, task_id: task.id, expires_at: clock.now() + config.retentionMs })
        .onConflict((oc) => oc.column('blob_key').doNothing())
        .execute();
    }
    await db.updateTable('tasks').set({ progress: 0.05 }).where('id', '=', task.id).where('status', '=', 'processing').execute();
    return blobs.localPath(key);
  }

  private async complete(task: Task, summary: IdentifySummary): Promise<void> {
    const { blobs, clock, config, signer } = this.d;
    const now = clock.now();
    const sessionId = newId('sess');
    const expiresAt = now + config.retentionMs;
    const fileIds = new Map<string, string>();
    for (const face of summary.faces) {
      const fileId = newId('file');
      const key = `faces/${sessionId}/${face.face_id}.jpg`;
      await blobs.putFile(key, face.picture_file);
      fileIds.set(face.face_id, fileId);
    }
    const result = buildResultJson(summary, {
      sessionId,
      requestId: newRequestId(),
      finalUnitDeduction: config.pricing.unitsPerTask,
      imageUrl: (face) => signer.url(fileIds.get(face.face_id)!, expiresAt),
    });
    const sessionData = {
      video: summary.video,
      faces: summary.faces.map((f) => ({ face_id: f.face_id, file_id: fileIds.get(f.face_id)!, start_time: f.start_time, end_time: f.end_time, box: f.box, score: f.score })),
      rejected_faces: summary.rejected_faces.map(({ track: _t, ...r }) => r),
      tracks: {
        faces: summary.faces.map((f) => ({ face_id: f.face_id, start_time: f.start_time, end_time: f.end_time, track: f.track })),
        rejected_faces: summary.rejected_faces,
      },
    };
    await this.finish(
      task.id,
      {
        status: 'completed',
        progress: 1,
        completed_at: now,
        result_text: JSON.stringify(result),
        cost_usd: config.pricing.costPerTaskUsd,
        video_meta: JSON.stringify(summary.video),
      },
      async (trx) => {
        await trx.insertInto('sessions').values({ id: sessionId, owner: task.owner, task_id: task.id, data: JSON.stringify(sessionData), created_at: now, expires_at: expiresAt }).execute();
        for (const f of summary.faces) {
          await trx
            .insertInto('files')
            .values({ id: fileIds.get(f.face_id)!, session_id: sessionId, blob_key: `faces/${sessionId}/${f.face_id}.jpg`, content_type: 'image/jpeg', created_at: now, expires_at: expiresAt })
            .execute();
        }
      },
    );
  }

  /** Moves a processing task to its end state once, then announces it (callback, waiters). */
  private async finish(taskId: string, set: Partial<Task>, also?: (trx: Db) => Promise<void>): Promise<void> {
    const { db } = this.d;
    const done = await db.transaction().execute(async (trx) => {
      const r = await trx.updateTable('tasks').set(set).where('id', '=', taskId).where('status', '=', 'processing').executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      await also?.(trx as unknown as Db);
      return true;
    });
    if (done) await this.d.tasks.announceSettled(taskId);
  }
}
