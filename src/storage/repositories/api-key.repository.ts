import type { Db } from '../database.js';
import type { ApiKeyTable } from '../schema.js';

/** An API key's row: the secret only as its hash. */
export type ApiKeyRow = ApiKeyTable;
/** What may be shown of a key. */
export type ApiKeyInfo = Omit<ApiKeyRow, 'secret_hash'>;

export interface ApiKeyRepository {
  insert(key: ApiKeyRow): Promise<void>;
  find(id: string): Promise<ApiKeyRow | undefined>;
  /** Every key, oldest first, without its hash. */
  list(): Promise<ApiKeyInfo[]>;
  /** Marks the key revoked at `at`; false when there is no such key or it was revoked already. */
  revoke(id: string, at: number): Promise<boolean>;
  count(): Promise<number>;
}

export class KyselyApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly db: Db) {}

  async insert(key: ApiKeyRow): Promise<void> {
    await this.db.insertInto('api_keys').values(key).execute();
  }

  find(id: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(): Promise<ApiKeyInfo[]> {
    return this.db.selectFrom('api_keys').select(['id', 'owner', 'name', 'created_at', 'revoked_at']).orderBy('created_at').execute();
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const r = await this.db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async count(): Promise<number> {
    const r = await this.db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
