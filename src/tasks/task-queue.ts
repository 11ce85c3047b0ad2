/** How a stored task reaches a processor: the embedded runner (the tasks table) or BullMQ (Redis). */
export interface TaskQueue {
  /** A pending task was stored: get it processed. */
  enqueue(taskId: string): void;
  /** A task was cancelled: stop it if it runs in this process (processors elsewhere see its status). */
  cancelled(taskId: string): void;
}
