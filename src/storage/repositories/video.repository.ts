import type { Db } from '../database.js';
import type { FetchedVideoTable, VideoTable } from '../schema.js';

/** An uploaded video. */
export type Video = VideoTable;
/** A video fetched from a task's video_url, kept for the task's retries until it expires. */
export type FetchedVideo = FetchedVideoTable;

/** Uploaded videos, and the videos fetched for tasks by URL. */
export interface VideoRepository {
  insert(video: Video): Promise<void>;
  /** An uploaded video by id: only `owner`'s when given, only one not expired at `now` when given. */
  find(id: string, opts?: { owner?: string; now?: number }): Promise<Video | undefined>;
  delete(id: string): Promise<void>;
  /** Uploads expired at `now`. */
  expired(now: number): Promise<Array<Pick<Video, 'id' | 'blob_key'>>>;
  /** Notes a fetched video (a second note of the same blob is ignored). */
  addFetched(fetched: FetchedVideo): Promise<void>;
  /** Blob keys of the fetched videos expired at `now`. */
  expiredFetched(now: number): Promise<string[]>;
  deleteFetched(blobKey: string): Promise<void>;
}

export class KyselyVideoRepository implements VideoRepository {
  constructor(private readonly db: Db) {}

  async insert(video: Video): Promise<void> {
    await this.db.insertInto('videos').values(video).execute();
  }

  find(id: string, opts: { owner?: string; now?: number } = {}): Promise<Video | undefined> {
    let q = this.db.selectFrom('videos').selectAll().where('id', '=', id);
    if (opts.owner !== undefined) q = q.where('owner', '=', opts.owner);
    if (opts.now !== undefined) q = q.where('expires_at', '>', opts.now);
    return q.executeTakeFirst();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('videos').where('id', '=', id).execute();
  }

  expired(now: number): Promise<Array<Pick<Video, 'id' | 'blob_key'>>> {
    return this.db.selectFrom('videos').select(['id', 'blob_key']).where('expires_at', '<=', now).execute();
  }

  async addFetched(fetched: FetchedVideo): Promise<void> {
    await this.db.insertInto('fetched_videos').values(fetched).onConflict((oc) => oc.column('blob_key').doNothing()).execute();
  }

  async expiredFetched(now: number): Promise<string[]> {
    const rows = await this.db.selectFrom('fetched_videos').select(['blob_key']).where('expires_at', '<=', now).execute();
    return rows.map((r) => r.blob_key);
  }

  async deleteFetched(blobKey: string): Promise<void> {
    await this.db.deleteFrom('fetched_videos').where('blob_key', '=', blobKey).execute();
  }
}
