import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Settings } from '../config.js';
import { assertBlobKey, type BlobStore } from './blobs.js';

/** `s3://bucket` or `s3://bucket/some/prefix` → bucket and key prefix ('' or 'some/prefix/'). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/.exec(url);
  if (!m) throw new Error(`KIRIN_STORAGE_URL must look like s3://bucket or s3://bucket/prefix (got "${url}")`);
  const path = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: m[1], prefix: path ? `${path}/` : '' };
}

const isNotFound = (e: unknown) =>
  e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey');

/**
 * Blobs as objects in an S3-compatible bucket (scale-out). Files on their way in or out (uploads
 * being validated, a video for ffmpeg) live in a local scratch folder of this process.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;

  constructor(private readonly settings: S3Settings, private readonly scratchDir: string) {
    // the SDK warns on every start that its releases after January 2027 will need Node 22; this one runs on 20
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    ({ bucket: this.bucket, prefix: this.prefix } = parseS3Url(settings.url));
    this.client = new S3Client({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      forcePathStyle: settings.forcePathStyle,
      ...(settings.accessKeyId ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } } : {}),
      // checksums only where S3 requires them: many S3-compatible servers reject the newer ones
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private objectKey(key: string): string {
    assertBlobKey(key);
    return this.prefix + key;
  }

  async putFile(key: string, file: string): Promise<void> {
    await this.putFileKeepingLocal(key, file);
    await rm(file, { force: true });
  }

  async putFileKeepingLocal(key: string, file: string): Promise<string> {
    const { size } = await stat(file);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: createReadStream(file), ContentLength: size }));
    return file;
  }

  async localPath(key: string, scratchDir: string): Promise<string> {
    await mkdir(scratchDir, { recursive: true });
    const file = join(scratchDir, key.replaceAll('/', '_'));
    await pipeline(await this.read(key), createWriteStream(file));
    return file;
  }

  async read(key: string): Promise<Readable> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    return r.Body as Readable;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }

  tempDir(): string {
    return this.scratchDir;
  }

  async directUrl(key: string, expiresInS: number): Promise<string | undefined> {
    if (!this.settings.presign) return undefined;
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), { expiresIn: expiresInS });
  }

  close(): void {
    this.client.destroy();
  }
}
