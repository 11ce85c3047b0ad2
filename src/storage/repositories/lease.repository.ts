import type { Db } from '../database.js';

/** Named leases: one holder at a time does a periodic job (the retention sweep, the queue reconcile). */
export interface LeaseRepository {
  /** Takes or renews the lease `name` for `holder` until now + ttlMs; false while another holder's lease runs. */
  take(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up early (only if still held by `holder`). */
  release(name: string, holder: string): Promise<void>;
}

export class KyselyLeaseRepository implements LeaseRepository {
  constructor(private readonly db: Db) {}

  /**
   * One statement (an upsert whose update applies only to an expired or own lease), so it is
   * atomic on SQLite and Postgres alike.
   */
  async take(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    await this.db
      .insertInto('leases')
      .values({ name, holder, expires_at: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder, expires_at: now + ttlMs })
          .where((eb) => eb.or([eb('leases.expires_at', '<=', now), eb('leases.holder', '=', holder)])),
      )
      .execute();
    const row = await this.db.selectFrom('leases').select(['holder', 'expires_at']).where('name', '=', name).executeTakeFirst();
    return row?.holder === holder && row.expires_at === now + ttlMs;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
  }
}
