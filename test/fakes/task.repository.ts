import type { Claimant, Task, TaskEnd, TaskRepository } from '../../src/storage/repositories/index.ts';
import type { TaskStatus } from '../../src/storage/schema.ts';
import { Table } from './table.ts';

/** A task as the tasks table keeps it: with its attempts and the process that claimed it last. */
export type StoredTask = Task & { attempts: number; worker: string | null };

/** The tasks in memory, with the table's rules: unique ids, one task per (owner, external_task_id). */
export class InMemoryTaskRepository extends Table<StoredTask> implements TaskRepository {
  async insert(task: Task): Promise<void> {
    if (this.rows.has(task.id)) throw new Error(`UNIQUE constraint failed: tasks.id (${task.id})`);
    if (task.external_task_id !== null && this.all().some((t) => t.owner === task.owner && t.external_task_id === task.external_task_id)) {
      throw new Error('UNIQUE constraint failed: tasks.owner, tasks.external_task_id');
    }
    this.put(task.id, { ...task, attempts: 0, worker: null });
  }

  async find(id: string, owner?: string): Promise<Task | undefined> {
    const t = this.row(id);
    return t && (owner === undefined || t.owner === owner) ? t : undefined;
  }

  async findByExternalId(owner: string, externalId: string): Promise<Task | undefined> {
    return this.all().find((t) => t.owner === owner && t.external_task_id === externalId);
  }

  async list(owner: string, q: { externalTaskId?: string; before?: Pick<Task, 'created_at' | 'id'>; limit: number }): Promise<Task[]> {
    const { before } = q;
    return this.all()
      .filter((t) => t.owner === owner && (q.externalTaskId === undefined || t.external_task_id === q.externalTaskId))
      .filter((t) => !before || t.created_at < before.created_at || (t.created_at === before.created_at && t.id < before.id))
      .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, q.limit);
  }

  async countActive(owner: string): Promise<number> {
    return this.all().filter((t) => t.owner === owner && (t.status === 'pending' || t.status === 'processing')).length;
  }

  async countPending(): Promise<number> {
    return this.all().filter((t) => t.status === 'pending').length;
  }

  async countByStatus(): Promise<Array<{ status: TaskStatus; n: number }>> {
    const counts = new Map<TaskStatus, number>();
    for (const t of this.all()) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
    return [...counts].map(([status, n]) => ({ status, n }));
  }

  async claim(id: string, from: TaskStatus[], by: Claimant): Promise<Task | undefined> {
    const t = this.row(id);
    if (!t || !from.includes(t.status)) return undefined;
    return this.put(id, { ...t, status: 'processing', started_at: by.now, progress: 0, attempts: t.attempts + 1, worker: by.process });
  }

  async claimOldestPending(by: Claimant): Promise<Task | undefined> {
    const next = this.all()
      .filter((t) => t.status === 'pending')
      .sort((a, b) => a.created_at - b.created_at)[0];
    return next && this.claim(next.id, ['pending'], by);
  }

  async setProgress(id: string, progress: number): Promise<void> {
    const t = this.row(id);
    if (t?.status === 'processing') this.put(id, { ...t, progress });
  }

  async end(id: string, set: TaskEnd, guard: { from: TaskStatus[]; owner?: string }): Promise<Task | undefined> {
    const t = this.row(id);
    if (!t || !guard.from.includes(t.status) || (guard.owner !== undefined && t.owner !== guard.owner)) return undefined;
    return this.put(id, { ...t, ...set });
  }

  async putBack(ids?: string[]): Promise<void> {
    for (const t of this.all()) {
      if (t.status === 'processing' && (!ids || ids.includes(t.id))) this.put(t.id, { ...t, status: 'pending', progress: 0 });
    }
  }

  async processingSince(startedBefore: number): Promise<string[]> {
    return this.all()
      .filter((t) => t.status === 'processing' && t.started_at !== null && t.started_at < startedBefore)
      .map((t) => t.id);
  }

  async statuses(ids: string[]): Promise<Array<{ id: string; status: TaskStatus }>> {
    return this.all()
      .filter((t) => ids.includes(t.id))
      .map(({ id, status }) => ({ id, status }));
  }

  async unfinished(limit: number): Promise<string[]> {
    return this.all()
      .filter((t) => t.status === 'pending' || t.status === 'processing')
      .sort((a, b) => a.created_at - b.created_at)
      .slice(0, limit)
      .map((t) => t.id);
  }
}
