import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, KirinError } from '../errors.js';

/**
 * Streams an upload to a file, failing with 014001103 as soon as it passes maxBytes (the rest is
 * not read); the partial file is removed on any failure.
 */
export async function receiveUpload(body: Readable, dir: string, name: string, maxBytes: number): Promise<{ file: string; bytes: number }> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        cb(new KirinError(ErrorCode.FileTooLarge, `file larger than ${Math.round(maxBytes / 1048576)} MB: stopped reading at ${bytes} bytes`));
      } else cb(null, chunk);
    },
  });
  try {
    await pipeline(body, counter, createWriteStream(file));
    return { file, bytes };
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  }
}
