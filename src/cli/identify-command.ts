import { constants } from 'node:fs';
import { access, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FrameObservation } from '../analysis/types.js';
import { loadEngineConfig } from '../config.js';
import { ErrorCode, KirinError } from '../errors.js';
import { identifyFile } from '../pipeline/identify-file.js';
import { buildResultJson, summarize } from '../pipeline/result-json.js';
import { tracksDocument } from '../pipeline/tracks-document.js';
import { progressBar } from './progress.js';

export interface IdentifyCommandArgs {
  file: string;
  outDir?: string;
  /** Also write the per-frame tracks of every face here. */
  tracksFile?: string;
}

/**
 * `kirin identify FILE [--out DIR] [--tracks OUT.json]`: the result JSON of CONTRACT.md §1, face
 * pictures as file:// URLs; with --tracks, the per-frame tracks document too.
 */
export async function identifyCommand(args: IdentifyCommandArgs): Promise<string> {
  // a tracks file that cannot be written is told before the analysis, not after it
  if (args.tracksFile !== undefined) {
    try {
      await access(dirname(resolve(args.tracksFile)), constants.W_OK);
    } catch (e) {
      throw new KirinError(ErrorCode.BadRequest, `--tracks ${args.tracksFile}: its folder cannot be written (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
  }
  const outDir = resolve(args.outDir ?? (await mkdtemp(join(tmpdir(), 'kirin-faces-'))));
  const bar = progressBar('analysing');
  try {
    const video = await identifyFile(resolve(args.file), {
      outDir,
      engine: loadEngineConfig(process.env),
      frameTimes: args.tracksFile !== undefined,
      onProgress: (f) => bar.update(f),
    });
    if (process.env.KIRIN_DUMP) dumpObservations(video.analysis.observations);
    if (process.env.KIRIN_STATS) {
      const { stats } = video.analysis;
      const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
      process.stderr.write(`kirin-stats ${JSON.stringify({ ...stats, picturesMs: video.picturesMs, maxRssMb, doneAtMs: Math.round(performance.now()) })}\n`);
    }
    const summary = summarize(video);
    if (args.tracksFile !== undefined) {
      const startedAt = performance.now();
      const doc = JSON.stringify(tracksDocument(summary, summary.frame_source!));
      await writeFile(resolve(args.tracksFile), doc);
      if (process.env.KIRIN_STATS) process.stderr.write(`kirin-tracks ${JSON.stringify({ bytes: Buffer.byteLength(doc), buildMs: Math.round(performance.now() - startedAt) })}\n`);
    }
    return JSON.stringify(buildResultJson(summary, { imageUrl: (face) => pathToFileURL(face.picture_file).href }), null, 2);
  } finally {
    bar.done();
  }
}

/** KIRIN_DUMP=1: every analysed frame and its faces on stderr (source pixels), for tuning. */
function dumpObservations(observations: readonly FrameObservation[]): void {
  for (const o of observations) {
    const faces = o.faces.map((s) => `[${[s.box.x, s.box.y, s.box.width, s.box.height].map(Math.round).join(',')}] c${s.confidence.toFixed(2)} yaw${s.yaw.toFixed(0)} pitch${s.pitch.toFixed(0)}${s.mouthHidden ? ' hidden' : ''}${s.embedding ? ' emb' : ''}`);
    process.stderr.write(`${o.frame} ${o.timeMs}${o.cutBefore ? ' CUT' : ''} ${faces.join('  ')}\n`);
  }
}
