import type { Clock } from '../clock.js';
import type { BlobStore } from '../storage/blobs.js';
import type { Repositories } from '../storage/repositories/index.js';
import { deleteSessionTracks } from '../storage/session-tracks.js';

export interface SweepCounts {
  sessions: number;
  files: number;
  videos: number;
  fetched: number;
}

/** Deletes what outlived its retention: sessions with their face pictures and tracks, uploads, fetched videos. */
export async function sweepExpired(repositories: Pick<Repositories, 'files' | 'sessions' | 'videos'>, blobs: BlobStore, clock: Clock): Promise<SweepCounts> {
  const { files, sessions, videos } = repositories;
  const now = clock.now();
  const counts: SweepCounts = { sessions: 0, files: 0, videos: 0, fetched: 0 };
  for (const f of await files.expired(now)) {
    await blobs.delete(f.blob_key);
    await files.delete(f.id);
    counts.files++;
  }
  for (const id of await sessions.expired(now)) {
    await deleteSessionTracks(blobs, id);
    await sessions.delete(id);
    counts.sessions++;
  }
  for (const v of await videos.expired(now)) {
    await blobs.delete(v.blob_key);
    await videos.delete(v.id);
    counts.videos++;
  }
  for (const key of await videos.expiredFetched(now)) {
    await blobs.delete(key);
    await videos.deleteFetched(key);
    counts.fetched++;
  }
  return counts;
}
