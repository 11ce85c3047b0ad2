import type { Db } from '../database.js';
import type { SecretTable } from '../schema.js';

/** Named secrets shared by every process of a deployment (Postgres). */
export interface SecretRepository {
  /** Stores those of `secrets` whose name is not stored yet; stored ones are kept. */
  addMissing(secrets: SecretTable[]): Promise<void>;
  /** The stored secrets of these names. */
  get(names: string[]): Promise<SecretTable[]>;
}

export class KyselySecretRepository implements SecretRepository {
  constructor(private readonly db: Db) {}

  async addMissing(secrets: SecretTable[]): Promise<void> {
    await this.db.insertInto('secrets').values(secrets).onConflict((oc) => oc.column('name').doNothing()).execute();
  }

  get(names: string[]): Promise<SecretTable[]> {
    return this.db.selectFrom('secrets').select(['name', 'value']).where('name', 'in', names).execute();
  }
}
