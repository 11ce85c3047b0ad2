import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { VideoTable } from './schema.js';

/** An uploaded video by id: only `owner`'s when given, only one not expired at `now` when given. */
export function findVideo(db: Db, id: string, opts: { owner?: string; now?: number } = {}): Promise<Selectable<VideoTable> | undefined> {
  let q = db.selectFrom('videos').selectAll().where('id', '=', id);
  if (opts.owner !== undefined) q = q.where('owner', '=', opts.owner);
  if (opts.now !== undefined) q = q.where('expires_at', '>', opts.now);
  return q.executeTakeFirst();
}
