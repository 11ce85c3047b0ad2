import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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
    const video = await identifyFile(resolve(args.file), { outDir, onProgress: (f) => bar.update(f) });
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
