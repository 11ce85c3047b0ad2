import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FrameObservation } from '../analysis/types.js';
import { loadEngineConfig } from '../config.js';
import { identifyFile } from '../pipeline/identify-file.js';
import { buildResultJson, summarize } from '../pipeline/result-json.js';
import { progressBar } from './progress.js';

export interface IdentifyCommandArgs {
  file: string;
  outDir?: string;
}

/** `kirin identify FILE [--out DIR]`: the result JSON of CONTRACT.md §1, face pictures as file:// URLs. */
export async function identifyCommand(args: IdentifyCommandArgs): Promise<string> {
  const outDir = resolve(args.outDir ?? (await mkdtemp(join(tmpdir(), 'kirin-faces-'))));
  const bar = progressBar('analysing');
  try {
    const video = await identifyFile(resolve(args.file), { outDir, engine: loadEngineConfig(process.env), onProgress: (f) => bar.update(f) });
    if (process.env.KIRIN_DUMP) dumpObservations(video.analysis.observations);
    if (process.env.KIRIN_STATS) {
      const { stats } = video.analysis;
      const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
      process.stderr.write(`kirin-stats ${JSON.stringify({ ...stats, maxRssMb, doneAtMs: Math.round(performance.now()) })}\n`);
    }
    return JSON.stringify(buildResultJson(summarize(video), { imageUrl: (face) => pathToFileURL(face.picture_file).href }), null, 2);
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
