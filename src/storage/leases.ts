import type { Db } from './database.js';

/**
 * Takes or renews the lease `name` for `holder` until now + ttlMs; false while another holder's
 * lease runs. One statement (an upsert whose update applies only to an expired or own lease), so
 * it is atomic on SQLite and Postgres alike.
 */
export async function tryLease(db: Db, name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
  await db
    .insertInto('leases')
    .values({ name, holder, expires_at: now + ttlMs })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder, expires_at: now + ttlMs })
        .where((eb) => eb.or([eb('leases.expires_at', '<=', now), eb('leases.holder', '=', holder)])),
    )
    .execute();
  const row = await db.selectFrom('leases').select(['holder', 'expires_at']).where('name', '=', name).executeTakeFirst();
  return row?.holder === holder && row.expires_at === now + ttlMs;
}

/** Gives the lease up early (only if still held by `holder`). */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
}
