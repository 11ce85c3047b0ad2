import { createReadStream, type ReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';

/** Where uploaded videos, fetched videos and face pictures are kept. */
export interface BlobStore {
  /** Moves (or copies) a local file into the store under `key`. */
  putFile(key: string, file: string): Promise<void>;
  /** A local path to read the blob from (a local store returns its own file). */
  localPath(key: string): Promise<string>;
  read(key: string): Promise<ReadStream>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
}

const SAFE_KEY = /^[a-z0-9_]+(\/[a-z0-9_.-]+)*$/i;

/** Blobs as files under one folder; keys are checked so no key can reach outside it. */
export class LocalBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`invalid blob key: ${key}`);
    const p = resolve(this.root, key);
    if (!p.startsWith(this.root + sep)) throw new Error(`invalid blob key: ${key}`);
    return p;
  }

  async putFile(key: string, file: string): Promise<void> {
    const dest = this.pathOf(key);
    await mkdir(dirname(dest), { recursive: true });
    try {
      await rename(file, dest);
    } catch {
      await copyFile(file, dest);
      await rm(file, { force: true });
    }
  }

  async localPath(key: string): Promise<string> {
    return this.pathOf(key);
  }

  async read(key: string): Promise<ReadStream> {
    const p = this.pathOf(key);
    await stat(p);
    return createReadStream(p);
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  /** A scratch folder next to the blobs (same filesystem, so putFile can rename). */
  tempDir(): string {
    return join(this.root, '..', 'tmp');
  }
}
