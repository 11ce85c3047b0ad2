import type {
  ApiKeyInfo,
  ApiKeyRepository,
  ApiKeyRow,
  Callback,
  CallbackAttempt,
  CallbackRepository,
  FetchedVideo,
  FileRepository,
  LeaseRepository,
  Repositories,
  SecretRepository,
  Session,
  SessionRepository,
  StoredFile,
  Video,
  VideoRepository,
} from '../../src/storage/repositories/index.ts';
import type { SecretTable } from '../../src/storage/schema.ts';
import { Table } from './table.ts';
import { InMemoryTaskRepository } from './task.repository.ts';


export class InMemoryVideoRepository extends Table<Video> implements VideoRepository {
  readonly fetched = new (class extends Table<FetchedVideo> {
    add(f: FetchedVideo) {
      if (!this.rows.has(f.blob_key)) this.put(f.blob_key, f);
    }
    drop(key: string) {
      this.remove(key);
    }
  })();

  async insert(video: Video): Promise<void> {
    this.insertNew(video.id, video, 'videos.id');
  }

  async find(id: string, opts: { owner?: string; now?: number } = {}): Promise<Video | undefined> {
    const v = this.row(id);
    if (!v || (opts.owner !== undefined && v.owner !== opts.owner) || (opts.now !== undefined && !(v.expires_at > opts.now))) return undefined;
    return v;
  }

  async delete(id: string): Promise<void> {
    this.remove(id);
  }

  async expired(now: number): Promise<Array<Pick<Video, 'id' | 'blob_key'>>> {
    return this.all()
      .filter((v) => v.expires_at <= now)
      .map(({ id, blob_key }) => ({ id, blob_key }));
  }

  async addFetched(fetched: FetchedVideo): Promise<void> {
    this.fetched.add(fetched);
  }

  async expiredFetched(now: number): Promise<string[]> {
    return this.fetched
      .all()
      .filter((f) => f.expires_at <= now)
      .map((f) => f.blob_key);
  }

  async deleteFetched(blobKey: string): Promise<void> {
    this.fetched.drop(blobKey);
  }

  override snapshot(): unknown {
    return [super.snapshot(), this.fetched.snapshot()];
  }

  override restore(saved: unknown): void {
    const [own, fetched] = saved as [unknown, unknown];
    super.restore(own);
    this.fetched.restore(fetched);
  }
}

export class InMemorySessionRepository extends Table<Session> implements SessionRepository {
  async insert(session: Session): Promise<void> {
    this.insertNew(session.id, session, 'sessions.id');
  }

  async find(id: string, owner: string): Promise<Session | undefined> {
    const s = this.row(id);
    return s?.owner === owner ? s : undefined;
  }

  async findByTask(taskId: string, owner: string): Promise<Session | undefined> {
    return this.all().find((s) => s.task_id === taskId && s.owner === owner);
  }

  async expired(now: number): Promise<string[]> {
    return this.all()
      .filter((s) => s.expires_at <= now)
      .map((s) => s.id);
  }

  async delete(id: string): Promise<void> {
    this.remove(id);
  }
}

export class InMemoryFileRepository extends Table<StoredFile> implements FileRepository {
  async insert(file: StoredFile): Promise<void> {
    this.insertNew(file.id, file, 'files.id');
  }

  async find(id: string): Promise<StoredFile | undefined> {
    return this.row(id);
  }

  async expired(now: number): Promise<Array<Pick<StoredFile, 'id' | 'blob_key'>>> {
    return this.all()
      .filter((f) => f.expires_at <= now)
      .map(({ id, blob_key }) => ({ id, blob_key }));
  }

  async delete(id: string): Promise<void> {
    this.remove(id);
  }
}

export class InMemoryCallbackRepository extends Table<Callback> implements CallbackRepository {
  async add(callback: Callback): Promise<void> {
    if (this.all().some((c) => c.task_id === callback.task_id)) return; // one per task
    this.insertNew(callback.id, callback, 'callbacks.id');
  }

  async due(now: number, limit: number) {
    return this.all()
      .filter((c) => c.status === 'pending' && c.next_attempt_at <= now)
      .sort((a, b) => a.next_attempt_at - b.next_attempt_at)
      .slice(0, limit)
      .map(({ id, url, body, attempts, next_attempt_at }) => ({ id, url, body, attempts, next_attempt_at }));
  }

  async claim(id: string, dueAt: number, until: number): Promise<boolean> {
    const c = this.row(id);
    if (!c || c.status !== 'pending' || c.next_attempt_at !== dueAt) return false;
    this.put(id, { ...c, next_attempt_at: until });
    return true;
  }

  async recordAttempt(id: string, attempt: CallbackAttempt): Promise<void> {
    const c = this.row(id);
    if (c) this.put(id, { ...c, ...attempt });
  }
}

export class InMemoryApiKeyRepository extends Table<ApiKeyRow> implements ApiKeyRepository {
  async insert(key: ApiKeyRow): Promise<void> {
    this.insertNew(key.id, key, 'api_keys.id');
  }

  async find(id: string): Promise<ApiKeyRow | undefined> {
    return this.row(id);
  }

  async list(): Promise<ApiKeyInfo[]> {
    return this.all()
      .sort((a, b) => a.created_at - b.created_at)
      .map(({ secret_hash: _h, ...info }) => info);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const k = this.row(id);
    if (!k || k.revoked_at !== null) return false;
    this.put(id, { ...k, revoked_at: at });
    return true;
  }

  async count(): Promise<number> {
    return this.rows.size;
  }
}

export class InMemoryLeaseRepository extends Table<{ holder: string; expires_at: number }> implements LeaseRepository {
  async take(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    const l = this.row(name);
    if (l && l.expires_at > now && l.holder !== holder) return false;
    this.put(name, { holder, expires_at: now + ttlMs });
    return true;
  }

  async release(name: string, holder: string): Promise<void> {
    if (this.row(name)?.holder === holder) this.remove(name);
  }
}

export class InMemorySecretRepository extends Table<SecretTable> implements SecretRepository {
  async addMissing(secrets: SecretTable[]): Promise<void> {
    for (const s of secrets) if (!this.rows.has(s.name)) this.put(s.name, s);
  }

  async get(names: string[]): Promise<SecretTable[]> {
    return this.all().filter((s) => names.includes(s.name));
  }
}

/** One at a time: each call waits for the ones before it. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/** `repo` with each method run under `lock`. */
function locked<R extends object>(repo: R, lock: Lock): R {
  return new Proxy(repo, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (...args: unknown[]) => lock.run(() => Promise.resolve(value.apply(target, args))) : value;
    },
  });
}

type Tables = Omit<Repositories, 'transaction'>;

/**
 * Every repository in memory, with the database's behaviour that services lean on: unique keys,
 * status-guarded updates, and transactions. As on the embedded SQLite (one connection), one
 * statement or transaction runs at a time; a transaction sees its own writes and an error in it
 * rolls all of them back. A query on the outer repositories from inside a transaction waits for
 * the transaction, as it would on SQLite: a service that forgets its transaction deadlocks here too.
 */
export class InMemoryRepositories implements Repositories {
  /** The stored rows, read directly by tests (not through the lock). */
  readonly tables = {
    tasks: new InMemoryTaskRepository(),
    videos: new InMemoryVideoRepository(),
    sessions: new InMemorySessionRepository(),
    files: new InMemoryFileRepository(),
    callbacks: new InMemoryCallbackRepository(),
    apiKeys: new InMemoryApiKeyRepository(),
    leases: new InMemoryLeaseRepository(),
    secrets: new InMemorySecretRepository(),
  } satisfies Tables;

  private readonly lock = new Lock();
  readonly tasks = locked(this.tables.tasks, this.lock);
  readonly videos = locked(this.tables.videos, this.lock);
  readonly sessions = locked(this.tables.sessions, this.lock);
  readonly files = locked(this.tables.files, this.lock);
  readonly callbacks = locked(this.tables.callbacks, this.lock);
  readonly apiKeys = locked(this.tables.apiKeys, this.lock);
  readonly leases = locked(this.tables.leases, this.lock);
  readonly secrets = locked(this.tables.secrets, this.lock);

  /** Transactions begun, and those rolled back. */
  readonly counts = { transactions: 0, rollbacks: 0 };

  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      this.counts.transactions++;
      const tables: Array<Table<object>> = Object.values(this.tables);
      const saved = tables.map((t) => t.snapshot());
      const tx: Repositories = { ...this.tables, transaction: (inner) => inner(tx) };
      try {
        return await work(tx);
      } catch (e) {
        tables.forEach((t, i) => t.restore(saved[i]!));
        this.counts.rollbacks++;
        throw e;
      }
    });
  }
}
