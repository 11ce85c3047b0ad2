import { openAsBlob } from 'node:fs';
import { ErrorCode, KirinError, KirinTimeoutError } from './errors.ts';
import { parseResult } from './result.ts';
import {
  MODEL,
  type CreateTaskRequest,
  type FrameTracks,
  type LipSyncCheck,
  type LipSyncPlan,
  type ResultJson,
  type Session,
  type Task,
  type TaskList,
  type Tracks,
  type Video,
  type VideoSource,
} from './types.ts';

export interface KirinClientOptions {
  /** Where the service answers, e.g. http://127.0.0.1:8080 (a path prefix is kept). */
  baseUrl: string;
  /** An API key (`npx kirin keys create`), sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Longest wait for one answer, in ms (default 60 000). Uploads and the synchronous route wait as long as they need. */
  requestTimeoutMs?: number;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface WaitOptions {
  /** Called with 0..1 whenever the task's progress changes, and once when it settles. */
  onProgress?: (progress: number, task: Task) => void;
  /** Stops waiting (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Give up waiting after this long (KirinTimeoutError, code 014002099); the task goes on. Default: no limit. */
  timeoutMs?: number;
  /** First pause between polls in ms (default 500); each next pause is `backoff` times longer, up to maxPollIntervalMs. */
  pollIntervalMs?: number;
  /** Longest pause between polls in ms (default 5000). */
  maxPollIntervalMs?: number;
  /** Growth of the pause between polls (default 1.5). */
  backoff?: number;
}

/** A local file (path, Blob or bytes): uploaded first. */
export type FileInput = string | Blob | Uint8Array;

export type IdentifySource = { file: FileInput } | VideoSource;

export interface IdentifyOptions extends WaitOptions {
  callback_url?: string;
  external_task_id?: string;
  /** When `signal` aborts, cancel the task on the service too (default true). */
  cancelOnAbort?: boolean;
}

export interface ListTasksQuery {
  external_task_id?: string;
  /** 1..100, default 20. */
  limit?: number;
  /** A task id: list the tasks created before it. */
  after?: string;
}

interface RequestOptions {
  json?: unknown;
  body?: Blob;
  contentType?: string;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
  /** null: no limit. */
  timeoutMs?: number | null;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const settledStatus = (t: Task) => t.status === 'completed' || t.status === 'failed';

/** The content type of a raw upload: the service judges the container from the bytes, this only picks its body parser. */
function uploadType(name: string): string {
  if (/\.mov$/i.test(name)) return 'video/quicktime';
  if (/\.(mp4|m4v)$/i.test(name)) return 'video/mp4';
  return 'application/octet-stream';
}

/**
 * The Kirin Face API (kirin_identify_face): upload, create, poll, parse, the synchronous route,
 * sessions, tracks and the lip-sync plan check. Every failure is a KirinError carrying the
 * contract's code.
 *
 *   const kirin = new KirinClient({ baseUrl: process.env.KIRIN_URL, apiKey: process.env.KIRIN_API_KEY });
 *   const result = await kirin.identify({ file: 'clip.mp4' }, { onProgress: (p) => console.log(p) });
 *   for (const face of result.data.face_data) console.log(face.face_id, face.start_time, face.end_time);
 */
export class KirinClient {
  private readonly base: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: KirinClientOptions) {
    if (!opts?.baseUrl) throw new KirinError(ErrorCode.BadRequest, 'KirinClient needs baseUrl (e.g. http://127.0.0.1:8080)');
    if (!opts.apiKey) throw new KirinError(ErrorCode.BadRequest, 'KirinClient needs apiKey');
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
  }

  // ---- videos

  /** Uploads a video (a path, a Blob or bytes); the service validates it at once (014001103 … 014001108). */
  async uploadVideo(file: FileInput, opts: { signal?: AbortSignal } = {}): Promise<Video> {
    let body: Blob;
    let type: string;
    if (typeof file === 'string') {
      body = await openAsBlob(file); // read as it is sent, not loaded whole
      type = uploadType(file);
    } else if (file instanceof Blob) {
      body = file;
      type = file.type && file.type !== '' ? file.type : 'application/octet-stream';
    } else {
      body = new Blob([file as Uint8Array<ArrayBuffer>]);
      type = 'application/octet-stream';
    }
    return this.request<Video>('POST', '/v1/videos', { body, contentType: type, signal: opts.signal, timeoutMs: null });
  }

  getVideo(videoId: string): Promise<Video> {
    return this.request<Video>('GET', `/v1/videos/${encodeURIComponent(videoId)}`);
  }

  async deleteVideo(videoId: string): Promise<void> {
    await this.request<void>('DELETE', `/v1/videos/${encodeURIComponent(videoId)}`);
  }

  // ---- tasks

  /** Creates a task from `video_url` or `video_id`; answers at once with the pending task. */
  createTask(req: CreateTaskRequest, opts: { signal?: AbortSignal } = {}): Promise<Task> {
    return this.request<Task>('POST', '/model/v1/generation', { json: { model: MODEL, ...req }, signal: opts.signal });
  }

  getTask(taskId: string, opts: { signal?: AbortSignal } = {}): Promise<Task> {
    return this.request<Task>('GET', `/model/v1/generation/${encodeURIComponent(taskId)}`, { signal: opts.signal });
  }

  listTasks(query: ListTasksQuery = {}): Promise<TaskList> {
    return this.request<TaskList>('GET', '/model/v1/generation', { query: { ...query } });
  }

  /** Cancels a pending or processing task: it fails with 014001301. Answers the task as it now is. */
  cancelTask(taskId: string): Promise<Task> {
    return this.request<Task>('DELETE', `/model/v1/generation/${encodeURIComponent(taskId)}`);
  }

  /**
   * Polls a task until it is completed or failed and answers it (a failed task is answered, not
   * thrown: see parseResult). Pauses grow from pollIntervalMs by `backoff` up to maxPollIntervalMs;
   * a 429 or 503 answer is waited out by its Retry-After.
   */
  async waitForTask(taskId: string, opts: WaitOptions = {}): Promise<Task> {
    const started = Date.now();
    let pause = opts.pollIntervalMs ?? 500;
    const maxPause = opts.maxPollIntervalMs ?? 5000;
    const backoff = opts.backoff ?? 1.5;
    let lastProgress = -1;
    for (;;) {
      let task: Task | undefined;
      let wait = pause;
      try {
        task = await this.getTask(taskId, { signal: opts.signal });
      } catch (e) {
        const retryAfter = e instanceof KirinError && (e.status === 429 || e.status === 503) ? e.retryAfterSeconds : undefined;
        if (retryAfter === undefined) throw e;
        wait = Math.max(pause, retryAfter * 1000);
      }
      if (task) {
        if (task.progress !== lastProgress || settledStatus(task)) {
          lastProgress = task.progress;
          opts.onProgress?.(task.progress, task);
        }
        if (settledStatus(task)) return task;
      }
      if (opts.timeoutMs !== undefined) {
        const left = opts.timeoutMs - (Date.now() - started);
        if (left <= 0) throw new KirinTimeoutError(taskId, Date.now() - started);
        wait = Math.min(wait, left);
      }
      await sleep(wait, opts.signal);
      pause = Math.min(maxPause, pause * backoff);
    }
  }

  /**
   * The whole round: upload `file` (or take `video_url` / `video_id`), create the task, wait for it
   * and parse its result JSON. A failed task throws KirinTaskFailedError with the task's code;
   * aborting `signal` cancels the task on the service too (unless cancelOnAbort is false).
   */
  async identify(source: IdentifySource, opts: IdentifyOptions = {}): Promise<ResultJson> {
    const video: VideoSource = 'file' in source ? { video_id: (await this.uploadVideo(source.file, { signal: opts.signal })).video_id } : source;
    const task = await this.createTask({ ...video, callback_url: opts.callback_url, external_task_id: opts.external_task_id }, { signal: opts.signal });
    let settled: Task;
    try {
      settled = await this.waitForTask(task.id, opts);
    } catch (e) {
      if (opts.signal?.aborted && opts.cancelOnAbort !== false) await this.cancelTask(task.id).catch(() => undefined);
      throw e;
    }
    return parseResult(settled);
  }

  /**
   * The synchronous route (POST /v1/videos/identify-face): the service waits for the analysis and
   * answers the result JSON itself. An input error is a KirinError 014001xxx (400); a failure
   * 014002099 (500), as is a task that outlasts the service's KIRIN_SYNC_TIMEOUT_MS (504).
   */
  identifySync(source: VideoSource, opts: { signal?: AbortSignal } = {}): Promise<ResultJson> {
    return this.request<ResultJson>('POST', '/v1/videos/identify-face', { json: source, signal: opts.signal, timeoutMs: null });
  }

  // ---- sessions and tracks

  /** A session (valid 24 h; then 014001201): its faces with fresh signed face_image URLs. */
  getSession(sessionId: string): Promise<Session> {
    return this.request<Session>('GET', `/v1/sessions/${encodeURIComponent(sessionId)}`);
  }

  /** A completed task's tracks: each face's states and analysed boxes; with `{ frames: 'all' }` every face on every frame. */
  getTracks(taskId: string): Promise<Tracks>;
  getTracks(taskId: string, opts: { frames: 'all' }): Promise<FrameTracks>;
  getTracks(taskId: string, opts: { frames?: 'all' } = {}): Promise<Tracks | FrameTracks> {
    return this.request('GET', `/model/v1/generation/${encodeURIComponent(taskId)}/tracks`, { query: { frames: opts.frames } });
  }

  /** The same tracks by session. */
  getSessionTracks(sessionId: string): Promise<Tracks>;
  getSessionTracks(sessionId: string, opts: { frames: 'all' }): Promise<FrameTracks>;
  getSessionTracks(sessionId: string, opts: { frames?: 'all' } = {}): Promise<Tracks | FrameTracks> {
    return this.request('GET', `/v1/sessions/${encodeURIComponent(sessionId)}/tracks`, { query: { frames: opts.frames } });
  }

  /**
   * Would the lip-sync step accept this face_choose? A broken rule is an answer, not an error:
   * `data.accepted` false and each check's coded problems (014001501 … 014001506).
   */
  checkLipSyncPlan(sessionId: string, plan: LipSyncPlan, opts: { signal?: AbortSignal } = {}): Promise<LipSyncCheck> {
    return this.request<LipSyncCheck>('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/lip-sync-check`, { json: plan, signal: opts.signal });
  }

  // ---- transport

  private async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' };
    let body: string | Blob | undefined;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    } else if (opts.body) {
      body = opts.body;
      headers['content-type'] = opts.contentType ?? 'application/octet-stream';
    }
    const limit = opts.timeoutMs === undefined ? this.timeoutMs : opts.timeoutMs;
    const timeout = limit === null ? undefined : AbortSignal.timeout(limit);
    const signals = [opts.signal, timeout].filter((s): s is AbortSignal => Boolean(s));
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];

    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(url, { method, headers, body, signal });
      text = await res.text();
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (timeout?.aborted) throw new KirinError(ErrorCode.DependencyHttpError, `${method} ${path}: no answer within ${Math.round(limit! / 1000)} s`, { cause: e });
      throw new KirinError(ErrorCode.DependencyHttpError, `${method} ${path}: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ''}`, { cause: e });
    }
    let json: unknown;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (res.ok) {
      if (text !== '' && json === undefined) throw new KirinError(ErrorCode.ResultParsing, `${method} ${path}: the answer is not JSON: ${text.slice(0, 200)}`, { status: res.status });
      return json as T;
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    const details = { status: res.status, retryAfterSeconds: Number.isFinite(retryAfter) && res.headers.has('retry-after') ? retryAfter : undefined };
    const err = (json as { error?: { code?: unknown; error_message?: unknown } } | undefined)?.error;
    if (err && typeof err.code === 'string') throw new KirinError(err.code, typeof err.error_message === 'string' ? err.error_message : `HTTP ${res.status}`, details);
    throw new KirinError(ErrorCode.DependencyHttpError, `${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`.trim(), details);
  }
}
