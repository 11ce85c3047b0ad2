import type { Db } from '../database.js';
import type { SessionTable } from '../schema.js';

/** A session: the faces of one analysed video (data: their JSON), kept until it expires. */
export type Session = SessionTable;

export interface SessionRepository {
  insert(session: Session): Promise<void>;
  /** The owner's session by id (expired ones included: the caller judges). */
  find(id: string, owner: string): Promise<Session | undefined>;
  /** The owner's session made by this task. */
  findByTask(taskId: string, owner: string): Promise<Session | undefined>;
  /** Ids of the sessions expired at `now`. */
  expired(now: number): Promise<string[]>;
  delete(id: string): Promise<void>;
}

export class KyselySessionRepository implements SessionRepository {
  constructor(private readonly db: Db) {}

  async insert(session: Session): Promise<void> {
    await this.db.insertInto('sessions').values(session).execute();
  }

  find(id: string, owner: string): Promise<Session | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('id', '=', id).where('owner', '=', owner).executeTakeFirst();
  }

  findByTask(taskId: string, owner: string): Promise<Session | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('task_id', '=', taskId).where('owner', '=', owner).executeTakeFirst();
  }

  async expired(now: number): Promise<string[]> {
    const rows = await this.db.selectFrom('sessions').select(['id']).where('expires_at', '<=', now).execute();
    return rows.map((r) => r.id);
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', id).execute();
  }
}
