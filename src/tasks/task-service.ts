import { EventEmitter } from 'node:events';
import type { Clock } from '../clock.js';
import type { ServiceConfig } from '../config.js';
import { ErrorCode, KirinError } from '../errors.js';
import { MODEL } from '../model.js';
import { checkUrlAllowedStatic, parseOutboundUrl, parseVideoUrl } from '../net/url-guard.js';
import { newId } from '../storage/ids.js';
import type { Repositories, Task, TaskEnd } from '../storage/repositories/index.js';
import type { TaskStatus } from '../storage/schema.js';
import type { CallbackQueue } from './callbacks.js';
import { toTaskObject, type TaskObject } from './task-object.js';

export interface CreateTaskInput {
  model?: unknown;
  video_id?: unknown;
  video_url?: unknown;
  callback_url?: unknown;
  external_task_id?: unknown;
}

const bad = (message: string) => new KirinError(ErrorCode.BadRequest, message);

/** Creating, reading, listing and cancelling tasks; the runner does the work. */
export class TaskService {
  /** Emits `settled` with a task id when a task reaches completed or failed. */
  readonly events = new EventEmitter();

  constructor(
    private readonly repositories: Repositories,
    private readonly config: ServiceConfig,
    private readonly clock: Clock,
    /** Queues a settled task's callback (in the transaction that settled it) and delivers due ones. */
    private readonly callbacks: Pick<CallbackQueue, 'enqueueIn' | 'deliverDue'>,
    /** Gets a stored pending task processed (the embedded runner, or the shared queue). */
    private readonly onCreated: (taskId: string) => void,
    private readonly onCancelled: (taskId: string) => void,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Validates a create request (400s are thrown as KirinError) and stores a pending task. */
  async create(owner: string, input: CreateTaskInput): Promise<TaskObject> {
    if (input.model !== MODEL) throw bad(`model must be "${MODEL}", got ${JSON.stringify(input.model ?? null)}`);
    const hasId = input.video_id !== undefined && input.video_id !== null && input.video_id !== '';
    const hasUrl = input.video_url !== undefined && input.video_url !== null && input.video_url !== '';
    if (hasId === hasUrl) throw bad('give exactly one of video_id and video_url');
    let videoUrl: string | null = null;
    if (hasUrl) {
      const url = parseVideoUrl(input.video_url);
      checkUrlAllowedStatic(url, { allowPrivate: this.config.allowPrivateUrls });
      videoUrl = url.href;
    }
    let callbackUrl: string | null = null;
    if (input.callback_url !== undefined && input.callback_url !== null && input.callback_url !== '') {
      const url = parseOutboundUrl(input.callback_url, 'callback_url');
      checkUrlAllowedStatic(url, { allowPrivate: this.config.allowPrivateUrls });
      callbackUrl = url.href;
    }
    const externalId = input.external_task_id ?? null;
    if (externalId !== null && (typeof externalId !== 'string' || externalId.length === 0 || externalId.length > 200)) {
      throw bad('external_task_id must be a string of 1–200 characters');
    }
    if (externalId !== null) {
      const existing = await this.repositories.tasks.findByExternalId(owner, externalId);
      if (existing) return toTaskObject(existing);
    }
    let videoId: string | null = null;
    if (hasId) {
      if (typeof input.video_id !== 'string') throw bad('video_id must be a string');
      const video = await this.repositories.videos.find(input.video_id, { owner, now: this.clock.now() });
      if (!video) {
        throw new KirinError(ErrorCode.VideoIdUnknown, `video_id ${input.video_id} is unknown or expired`);
      }
      videoId = video.id;
    }
    const row: Task = {
      id: newId('task'),
      owner,
      model: MODEL,
      external_task_id: externalId,
      status: 'pending',
      progress: 0,
      video_id: videoId,
      video_url: videoUrl,
      callback_url: callbackUrl,
      created_at: this.clock.now(),
      started_at: null,
      completed_at: null,
      error_code: null,
      error_message: null,
      result_text: null,
      cost_usd: null,
      video_meta: null,
    };
    try {
      await this.repositories.tasks.insert(row);
    } catch (e) {
      // two creates with one external_task_id at once: the unique index lets one through
      const existing = externalId !== null ? await this.repositories.tasks.findByExternalId(owner, externalId) : undefined;
      if (existing) return toTaskObject(existing);
      throw e;
    }
    this.onCreated(row.id);
    return toTaskObject(row);
  }

  async get(owner: string, id: string): Promise<TaskObject | undefined> {
    const row = await this.repositories.tasks.find(id, owner);
    return row && toTaskObject(row);
  }

  async list(owner: string, q: { externalTaskId?: string; limit: number; after?: string }): Promise<{ data: TaskObject[]; has_more: boolean }> {
    let before: Task | undefined;
    if (q.after) {
      before = await this.repositories.tasks.find(q.after, owner);
      if (!before) throw bad(`after: unknown task id ${q.after}`);
    }
    // one more than asked: whether there are more
    const rows = await this.repositories.tasks.list(owner, { externalTaskId: q.externalTaskId, before, limit: q.limit + 1 });
    return { data: rows.slice(0, q.limit).map(toTaskObject), has_more: rows.length > q.limit };
  }

  /** Cancels a pending or processing task (failed, 014001301); a finished task is returned unchanged. */
  async cancel(owner: string, id: string): Promise<TaskObject | undefined> {
    const cancelled = await this.end(
      id,
      { status: 'failed', error_code: ErrorCode.Cancelled, error_message: 'cancelled by its owner', completed_at: this.clock.now() },
      { from: ['pending', 'processing'], owner },
    );
    if (cancelled) this.onCancelled(id);
    return this.get(owner, id);
  }

  /** Resolves when the task is completed or failed, or after timeoutMs with its current state. */
  async waitSettled(owner: string, id: string, timeoutMs: number): Promise<TaskObject | undefined> {
    const settled = (t: TaskObject | undefined) => !t || t.status === 'completed' || t.status === 'failed';
    const first = await this.get(owner, id);
    if (settled(first)) return first;
    await new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.events.off('settled', onSettled);
        resolve();
      };
      const onSettled = (taskId: string) => taskId === id && finish();
      const timer = setTimeout(finish, timeoutMs);
      // the event covers this process; polling covers a task finished by another one
      const poll = setInterval(() => void this.get(owner, id).then((t) => settled(t) && finish()), 1000);
      this.events.on('settled', onSettled);
    });
    return this.get(owner, id);
  }

  /**
   * Moves a task from one of `from` (default: processing) to its end state once, in one
   * transaction with `also` and the task's callback, so the end state, its session and its
   * callback are stored together or not at all; then announces it. False when the task was not
   * in `from` (nothing is written): it had ended already, or was cancelled meanwhile.
   */
  async end(taskId: string, set: TaskEnd, opts: { from?: TaskStatus[]; owner?: string; also?: (tx: Repositories) => Promise<void> } = {}): Promise<boolean> {
    const done = await this.repositories.transaction(async (tx) => {
      const row = await tx.tasks.end(taskId, set, { from: opts.from ?? ['processing'], owner: opts.owner });
      if (!row) return false;
      await opts.also?.(tx); // sessions and files: the task row stays as updated
      if (row.callback_url) await this.callbacks.enqueueIn(tx, row.id, row.callback_url, JSON.stringify(toTaskObject(row)));
      return true;
    });
    if (done) {
      this.callbacks.deliverDue();
      this.events.emit('settled', taskId);
    }
    return done;
  }
}
