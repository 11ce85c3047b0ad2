import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';

/** Where uploaded videos, fetched videos and face pictures are kept. */
export interface BlobStore {
  /** Moves (or copies) a local file into the store under `key`. */
  putFile(key: string, file: string): Promise<void>;
  /**
   * Stores `file` under `key` and resolves with a local file holding its bytes (read it only): the
   * store's own file, or `file` itself left in place. Saves reading back what was just written.
   */
  putFileKeepingLocal(key: string, file: string): Promise<string>;
  /** A local file with the blob's bytes: the store's own file (read it only), or a copy made in scratchDir. */
  localPath(key: string, scratchDir: string): Promise<string>;
  read(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** A local scratch folder for files on their way in (uploads, downloads, analyses). */
  tempDir(): string;
  /** A URL the client can fetch the blob from directly for `expiresInS`, when the store offers one. */
  directUrl?(key: string, expiresInS: number): Promise<string | undefined>;
}

const SAFE_KEY = /^[a-z0-9_]+(\/[a-z0-9_.-]+)*$/i;

/** Keys are the store's own (`faces/sess_…/0.jpg`); anything else is refused. */
export function assertBlobKey(key: string): void {
  if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`invalid blob key: ${key}`);
}

/** Blobs as files under one folder; keys are checked so no key can reach outside it. */
export class LocalBlobStore implements BlobStore {
  readonly root: string;
  private readonly scratch: string;

  /** scratchDir must be on the blobs' filesystem, so putFile can rename; default: `tmp` beside the root. */
  constructor(root: string, scratchDir?: string) {
    this.root = resolve(root);
    this.scratch = scratchDir ?? join(this.root, '..', 'tmp');
  }

  private pathOf(key: string): string {
    assertBlobKey(key);
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

  async putFileKeepingLocal(key: string, file: string): Promise<string> {
    await this.putFile(key, file);
    return this.pathOf(key);
  }

  async localPath(key: string, _scratchDir?: string): Promise<string> {
    return this.pathOf(key);
  }

  async read(key: string): Promise<Readable> {
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

  tempDir(): string {
    return this.scratch;
  }
}
