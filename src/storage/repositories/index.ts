import { inTransaction, type Db } from '../database.js';
import { KyselyApiKeyRepository, type ApiKeyRepository } from './api-key.repository.js';
import { KyselyCallbackRepository, type CallbackRepository } from './callback.repository.js';
import { KyselyFileRepository, type FileRepository } from './file.repository.js';
import { KyselyLeaseRepository, type LeaseRepository } from './lease.repository.js';
import { KyselySecretRepository, type SecretRepository } from './secret.repository.js';
import { KyselySessionRepository, type SessionRepository } from './session.repository.js';
import { KyselyTaskRepository, type TaskRepository } from './task.repository.js';
import { KyselyVideoRepository, type VideoRepository } from './video.repository.js';

export type { ApiKeyInfo, ApiKeyRepository, ApiKeyRow } from './api-key.repository.js';
export type { Callback, CallbackAttempt, CallbackRepository } from './callback.repository.js';
export type { FileRepository, StoredFile } from './file.repository.js';
export type { LeaseRepository } from './lease.repository.js';
export type { SecretRepository } from './secret.repository.js';
export type { Session, SessionRepository } from './session.repository.js';
export type { Claimant, Task, TaskEnd, TaskRepository } from './task.repository.js';
export type { FetchedVideo, Video, VideoRepository } from './video.repository.js';

/**
 * Every query of the service, by what it is about. Services and routes take these, never the
 * database: tests give them in-memory ones (test/fakes/), the service the Kysely ones.
 */
export interface Repositories {
  tasks: TaskRepository;
  videos: VideoRepository;
  sessions: SessionRepository;
  files: FileRepository;
  callbacks: CallbackRepository;
  apiKeys: ApiKeyRepository;
  leases: LeaseRepository;
  secrets: SecretRepository;
  /**
   * Runs `work` with repositories bound to one transaction: its writes are stored together or
   * not at all (an error rolls them back). Within one, `transaction` joins it.
   */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
}

/** The repositories over a Kysely database (SQLite or Postgres), or over one of its transactions. */
export function kyselyRepositories(db: Db): Repositories {
  return {
    tasks: new KyselyTaskRepository(db),
    videos: new KyselyVideoRepository(db),
    sessions: new KyselySessionRepository(db),
    files: new KyselyFileRepository(db),
    callbacks: new KyselyCallbackRepository(db),
    apiKeys: new KyselyApiKeyRepository(db),
    leases: new KyselyLeaseRepository(db),
    secrets: new KyselySecretRepository(db),
    transaction: (work) => inTransaction(db, (trx) => work(kyselyRepositories(trx))),
  };
}
