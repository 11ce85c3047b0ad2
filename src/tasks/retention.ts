import type { Clock } from '../clock.js';
import type { BlobStore } from '../storage/blobs.js';
import type { Db } from '../storage/database.js';
import { deleteSessionTracks } from '../storage/session-tracks.js';

export interface SweepCounts {
  sessions: number;
  files: number;
  videos: number;
  fetched: number;
}

/** Deletes what outlived its retention: sessions with their face pictures and tracks, uploads, fetched videos. */
export async function sweepExpired(db: Db, blobs: BlobStore, clock: Clock): Promise<SweepCounts> {
  const now = clock.now();
  const counts: SweepCounts = { sessions: 0, files: 0, videos: 0, fetched: 0 };
  const files = await db.selectFrom('files').select(['id', 'blob_key']).where('expires_at', '<=', now).execute();
  for (const f of files) {
    await blobs.delete(f.blob_key);
    await db.deleteFrom('files').where('id', '=', f.id).execute();
    counts.files++;
  }
  const sessions = await db.selectFrom('sessions').select(['id']).where('expires_at', '<=', now).execute();
  for (const s of sessions) {
    await deleteSessionTracks(blobs, s.id);
    await db.deleteFrom('sessions').where('id', '=', s.id).execute();
    counts.sessions++;
  }
  const videos = await db.selectFrom('videos').select(['id', 'blob_key']).where('expires_at', '<=', now).execute();
  for (const v of videos) {
    await blobs.delete(v.blob_key);
    await db.deleteFrom('videos').where('id', '=', v.id).execute();
    counts.videos++;
  }
  const fetched = await db.selectFrom('fetched_videos').select(['blob_key']).where('expires_at', '<=', now).execute();
  for (const f of fetched) {
    await blobs.delete(f.blob_key);
    await db.deleteFrom('fetched_videos').where('blob_key', '=', f.blob_key).execute();
    counts.fetched++;
  }
  return counts;
}
