import { Worker } from 'node:worker_threads';
import { ErrorCode, KirinError, type ErrorCodeValue } from '../errors.js';
import type { IdentifySummary } from '../pipeline/result-json.js';
import type { RunJob, ThreadReply, ThreadRequest } from './analysis-thread-messages.js';

interface Job {
  req: RunJob;
  onProgress: (f: number) => void;
  resolve: (s: IdentifySummary) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  /** A cancelled job the thread is still winding down; the slot takes no new job until it has. */
  stopping?: { jobId: string; timer: NodeJS.Timeout };
}

/** A thread that has not wound a cancelled job down by then is terminated after all. */
const STOP_GRACE_MS = 30_000;

// compiled (dist/), a thread runs the compiled body; run from src/ through tsx, a thread first
// registers tsx (analysis-thread-from-source.mjs): it does not inherit the loader bin/kirin.js registered
const ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./analysis-thread-from-source.mjs', import.meta.url)
  : new URL('./analysis-thread.js', import.meta.url);

/**
 * A fixed number of analysis threads (Node worker threads), each with its own copy of the
 * models, running one analysis at a time. A job can be cancelled (the thread is asked to stop it: terminating a thread inside
 * onnxruntime's native code would abort the whole process); a thread that dies fails its job
 * with an internal error and is replaced.
 */
export class AnalysisThreadPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  get busy(): number {
    return this.slots.filter((s) => s.job).length;
  }

  run(req: Omit<RunJob, 'type'>, onProgress: (f: number) => void): Promise<IdentifySummary> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ req: { type: 'run', ...req }, onProgress, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops a job: waiting, it is dropped; running, its thread is told to stop it (it rejects at once). */
  cancel(jobId: string, reason: Error): void {
    const i = this.waiting.findIndex((j) => j.req.jobId === jobId);
    if (i >= 0) {
      this.waiting.splice(i, 1)[0].reject(reason);
      return;
    }
    const slot = this.slots.find((s) => s.job?.req.jobId === jobId);
    if (!slot?.job) return;
    const job = slot.job;
    slot.job = undefined;
    job.reject(reason);
    slot.stopping = { jobId, timer: setTimeout(() => this.replace(slot), STOP_GRACE_MS) };
    this.post(slot, { type: 'cancel', jobId });
  }

  /** Asks every thread to finish what it is doing in native code and leave; terminates stragglers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.waiting.splice(0)) j.reject(new Error('worker pool closed'));
    await Promise.all(
      this.slots.map(async (slot) => {
        clearTimeout(slot.stopping?.timer);
        const exited = new Promise<void>((r) => slot.worker.once('exit', () => r()));
        this.post(slot, { type: 'close' });
        const timer = setTimeout(() => void slot.worker.terminate(), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private post(slot: Slot, m: ThreadRequest): void {
    slot.worker.postMessage(m);
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(ENTRY) };
    slot.worker.on('message', (m: ThreadReply) => {
      if (slot.stopping && m.jobId === slot.stopping.jobId) {
        if (m.type === 'progress') return;
        clearTimeout(slot.stopping.timer);
        slot.stopping = undefined;
        this.dispatch();
        return;
      }
      const job = slot.job;
      if (!job || job.req.jobId !== m.jobId) return;
      if (m.type === 'progress') {
        job.onProgress(m.fraction);
        return;
      }
      slot.job = undefined;
      if (m.type === 'done') job.resolve(m.summary);
      else job.reject(m.code ? new KirinError(m.code as ErrorCodeValue, m.message) : new Error(m.message));
      this.dispatch();
    });
    slot.worker.on('error', (err) => this.onDeath(slot, err));
    slot.worker.on('exit', (code) => this.onDeath(slot, new Error(`analysis thread exited (${code})`)));
    return slot;
  }

  private onDeath(slot: Slot, err: Error): void {
    if (this.closed || !this.slots.includes(slot)) return;
    clearTimeout(slot.stopping?.timer);
    slot.stopping = undefined;
    const job = slot.job;
    slot.job = undefined;
    job?.reject(new KirinError(ErrorCode.Internal, `analysis failed: ${err.message}`));
    this.replace(slot);
  }

  /** A thread that did not stop when asked (or died): a new one takes its place. */
  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0 || this.closed) return;
    this.slots[i] = this.spawn();
    void slot.worker.terminate();
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || slot.stopping || this.waiting.length === 0) continue;
      const job = this.waiting.shift()!;
      slot.job = job;
      this.post(slot, job.req);
    }
  }
}
