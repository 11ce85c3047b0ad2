import type { Db } from '../database.js';
import type { FileTable } from '../schema.js';

/** A stored file of a session (a face picture), served by a signed URL until it expires. */
export type StoredFile = FileTable;

export interface FileRepository {
  insert(file: StoredFile): Promise<void>;
  find(id: string): Promise<StoredFile | undefined>;
  /** The files expired at `now`. */
  expired(now: number): Promise<Array<Pick<StoredFile, 'id' | 'blob_key'>>>;
  delete(id: string): Promise<void>;
}

export class KyselyFileRepository implements FileRepository {
  constructor(private readonly db: Db) {}

  async insert(file: StoredFile): Promise<void> {
    await this.db.insertInto('files').values(file).execute();
  }

  find(id: string): Promise<StoredFile | undefined> {
    return this.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
  }

  expired(now: number): Promise<Array<Pick<StoredFile, 'id' | 'blob_key'>>> {
    return this.db.selectFrom('files').select(['id', 'blob_key']).where('expires_at', '<=', now).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('files').where('id', '=', id).execute();
  }
}
