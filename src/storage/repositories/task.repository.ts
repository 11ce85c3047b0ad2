import { inTransaction, type Db } from '../database.js';
import type { TaskStatus, TaskTable } from '../schema.js';

/** A stored task (the tasks table without its bookkeeping: attempts, the claiming process). */
export type Task = Omit<TaskTable, 'attempts' | 'worker'>;

/** What ending a task writes: its end state and what goes with it. */
export type TaskEnd = Partial<Pick<Task, 'status' | 'progress' | 'completed_at' | 'error_code' | 'error_message' | 'result_text' | 'cost_usd' | 'video_meta'>>;

/** Who takes a task, and when (a claim stamps both on it). */
export interface Claimant {
  /** host:pid of the process (tasks.worker). */
  process: string;
  now: number;
}

/** The tasks: their rows and every change of status, each guarded by the status it comes from. */
export interface TaskRepository {
  /** Stores a new task; throws when the owner already has one with its external_task_id. */
  insert(task: Task): Promise<void>;
  /** A task by id (only `owner`'s when given). */
  find(id: string, owner?: string): Promise<Task | undefined>;
  /** The owner's task with this external_task_id, if there is one. */
  findByExternalId(owner: string, externalId: string): Promise<Task | undefined>;
  /** The owner's tasks newest first (created_at, then id), at most `limit`, only those before `before` when given. */
  list(owner: string, q: { externalTaskId?: string; before?: Pick<Task, 'created_at' | 'id'>; limit: number }): Promise<Task[]>;
  /** How many of the owner's tasks are pending or processing. */
  countActive(owner: string): Promise<number>;
  /** How many tasks wait (pending), whoever owns them. */
  countPending(): Promise<number>;
  /** How many tasks there are in each status (statuses with none left out). */
  countByStatus(): Promise<Array<{ status: TaskStatus; n: number }>>;
  /** Takes the task for `by` while it is in one of `from`: processing, started now, one more attempt. */
  claim(id: string, from: TaskStatus[], by: Claimant): Promise<Task | undefined>;
  /** Takes the oldest pending task for `by` (in one transaction: no two processes take the same one). */
  claimOldestPending(by: Claimant): Promise<Task | undefined>;
  /** Notes the progress (0–1) of a task while it is processing. */
  setProgress(id: string, progress: number): Promise<void>;
  /** Writes `set` on the task if it is in one of `from` (and `owner`'s when given); the task as written, or undefined. */
  end(id: string, set: TaskEnd, guard: { from: TaskStatus[]; owner?: string }): Promise<Task | undefined>;
  /** Puts processing tasks (those of `ids`, or all) back to pending with no progress. */
  putBack(ids?: string[]): Promise<void>;
  /** Ids of the tasks processing since before `startedBefore`. */
  processingSince(startedBefore: number): Promise<string[]>;
  /** The status of each of these tasks that exists. */
  statuses(ids: string[]): Promise<Array<{ id: string; status: TaskStatus }>>;
  /** Ids of up to `limit` pending or processing tasks, oldest first. */
  unfinished(limit: number): Promise<string[]>;
}

export class KyselyTaskRepository implements TaskRepository {
  constructor(private readonly db: Db) {}

  async insert(task: Task): Promise<void> {
    await this.db.insertInto('tasks').values(task).execute();
  }

  find(id: string, owner?: string): Promise<Task | undefined> {
    let q = this.db.selectFrom('tasks').selectAll().where('id', '=', id);
    if (owner !== undefined) q = q.where('owner', '=', owner);
    return q.executeTakeFirst();
  }

  findByExternalId(owner: string, externalId: string): Promise<Task | undefined> {
    return this.db.selectFrom('tasks').selectAll().where('owner', '=', owner).where('external_task_id', '=', externalId).executeTakeFirst();
  }

  list(owner: string, q: { externalTaskId?: string; before?: Pick<Task, 'created_at' | 'id'>; limit: number }): Promise<Task[]> {
    let query = this.db.selectFrom('tasks').selectAll().where('owner', '=', owner);
    if (q.externalTaskId !== undefined) query = query.where('external_task_id', '=', q.externalTaskId);
    const before = q.before;
    if (before) {
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', before.created_at), eb.and([eb('created_at', '=', before.created_at), eb('id', '<', before.id)])]),
      );
    }
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  }

  async countActive(owner: string): Promise<number> {
    const row = await this.db
      .selectFrom('tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner', '=', owner)
      .where('status', 'in', ['pending', 'processing'])
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countPending(): Promise<number> {
    const row = await this.db.selectFrom('tasks').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countByStatus(): Promise<Array<{ status: TaskStatus; n: number }>> {
    const rows = await this.db.selectFrom('tasks').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
  }

  claim(id: string, from: TaskStatus[], by: Claimant): Promise<Task | undefined> {
    return this.db
      .updateTable('tasks')
      .set((eb) => ({ status: 'processing', started_at: by.now, progress: 0, attempts: eb('attempts', '+', 1), worker: by.process }))
      .where('id', '=', id)
      .where('status', 'in', from)
      .returningAll()
      .executeTakeFirst();
  }

  claimOldestPending(by: Claimant): Promise<Task | undefined> {
    return inTransaction(this.db, async (trx) => {
      const next = await trx.selectFrom('tasks').select('id').where('status', '=', 'pending').orderBy('created_at').limit(1).executeTakeFirst();
      return next && new KyselyTaskRepository(trx).claim(next.id, ['pending'], by);
    });
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.db.updateTable('tasks').set({ progress }).where('id', '=', id).where('status', '=', 'processing').execute();
  }

  end(id: string, set: TaskEnd, guard: { from: TaskStatus[]; owner?: string }): Promise<Task | undefined> {
    let update = this.db.updateTable('tasks').set(set).where('id', '=', id).where('status', 'in', guard.from);
    if (guard.owner !== undefined) update = update.where('owner', '=', guard.owner);
    return update.returningAll().executeTakeFirst();
  }

  async putBack(ids?: string[]): Promise<void> {
    let update = this.db.updateTable('tasks').set({ status: 'pending', progress: 0 });
    if (ids) update = update.where('id', 'in', ids);
    await update.where('status', '=', 'processing').execute();
  }

  async processingSince(startedBefore: number): Promise<string[]> {
    const rows = await this.db.selectFrom('tasks').select('id').where('status', '=', 'processing').where('started_at', '<', startedBefore).execute();
    return rows.map((r) => r.id);
  }

  statuses(ids: string[]): Promise<Array<{ id: string; status: TaskStatus }>> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('tasks').select(['id', 'status']).where('id', 'in', ids).execute();
  }

  async unfinished(limit: number): Promise<string[]> {
    const rows = await this.db.selectFrom('tasks').select('id').where('status', 'in', ['pending', 'processing']).orderBy('created_at').limit(limit).execute();
    return rows.map((r) => r.id);
  }
}
