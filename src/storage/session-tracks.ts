import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { AudioJson, FrameSourceJson, IdentifySummary } from '../pipeline/result-json.js';
import type { BlobStore } from './blobs.js';

const gzipAsync = promisify(gzip);

/**
 * A session's tracks, kept as a gzipped JSON blob (not in the database): each face's states and
 * analysed boxes over time (what `…/tracks` answers) and what its per-frame tracks are made from.
 */
export interface StoredTracks {
  video: IdentifySummary['video'];
  audio: AudioJson;
  faces: Pick<IdentifySummary['faces'][number], 'face_id' | 'person_id' | 'start_time' | 'end_time' | 'speaking' | 'track'>[];
  rejected_faces: IdentifySummary['rejected_faces'];
  /** Absent when the analysis did not list the frame times. */
  frame_source?: FrameSourceJson;
}

/** The blob of a session's tracks. */
export const tracksKey = (sessionId: string) => `tracks/${sessionId}.json.gz`;
/** The per-frame tracks document, made the first time it is asked for and kept. */
export const frameTracksKey = (sessionId: string) => `tracks/${sessionId}.frames.json.gz`;

export function storedTracks(summary: IdentifySummary): StoredTracks {
  return {
    video: summary.video,
    audio: summary.audio,
    faces: summary.faces.map((f) => ({ face_id: f.face_id, person_id: f.person_id, start_time: f.start_time, end_time: f.end_time, speaking: f.speaking, track: f.track })),
    rejected_faces: summary.rejected_faces,
    ...(summary.frame_source ? { frame_source: summary.frame_source } : {}),
  };
}

/** Stores bytes already gzipped under `key` (through a scratch file, as every blob store takes files). */
export async function putGzipped(blobs: BlobStore, key: string, gzipped: Buffer): Promise<void> {
  const dir = blobs.tempDir();
  await mkdir(dir, { recursive: true });
  const file = join(dir, `tracks-${randomBytes(6).toString('hex')}.gz`);
  try {
    await writeFile(file, gzipped);
    await blobs.putFile(key, file);
  } finally {
    await rm(file, { force: true });
  }
}

export const gzipJson = (value: unknown): Promise<Buffer> => gzipAsync(Buffer.from(JSON.stringify(value)));

/** A blob's bytes; undefined when there is no such blob. */
export async function readBlob(blobs: BlobStore, key: string): Promise<Buffer | undefined> {
  if (!(await blobs.exists(key))) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await blobs.read(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function deleteSessionTracks(blobs: BlobStore, sessionId: string): Promise<void> {
  await blobs.delete(tracksKey(sessionId));
  await blobs.delete(frameTracksKey(sessionId));
}
