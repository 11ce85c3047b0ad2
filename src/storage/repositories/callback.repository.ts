import type { Db } from '../database.js';
import type { CallbackTable } from '../schema.js';

/** A callback delivery: one per task, retried until delivered, refused or out of attempts. */
export type Callback = CallbackTable;
/** A delivery's state after an attempt. */
export type CallbackAttempt = Pick<Callback, 'attempts' | 'status' | 'last_error' | 'next_attempt_at'>;

export interface CallbackRepository {
  /** Queues a delivery; a task has at most one, so a second one for the same task is ignored. */
  add(callback: Callback): Promise<void>;
  /** Up to `limit` pending deliveries due at `now`, the longest due first. */
  due(now: number, limit: number): Promise<Array<Pick<Callback, 'id' | 'url' | 'body' | 'attempts' | 'next_attempt_at'>>>;
  /**
   * Takes a pending delivery due at `dueAt` by moving its next attempt to `until` (a compare-and-set
   * on the old time); false when it is no longer pending or another process took it first.
   */
  claim(id: string, dueAt: number, until: number): Promise<boolean>;
  /** Stores how an attempt went. */
  recordAttempt(id: string, attempt: CallbackAttempt): Promise<void>;
}

export class KyselyCallbackRepository implements CallbackRepository {
  constructor(private readonly db: Db) {}

  async add(callback: Callback): Promise<void> {
    await this.db.insertInto('callbacks').values(callback).onConflict((oc) => oc.column('task_id').doNothing()).execute();
  }

  due(now: number, limit: number) {
    return this.db
      .selectFrom('callbacks')
      .select(['id', 'url', 'body', 'attempts', 'next_attempt_at'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
  }

  async claim(id: string, dueAt: number, until: number): Promise<boolean> {
    const r = await this.db
      .updateTable('callbacks')
      .set({ next_attempt_at: until })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '=', dueAt)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async recordAttempt(id: string, attempt: CallbackAttempt): Promise<void> {
    await this.db.updateTable('callbacks').set(attempt).where('id', '=', id).execute();
  }
}
