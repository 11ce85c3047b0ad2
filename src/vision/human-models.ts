import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TfjsGraphModelJson } from './onnx/tfjs-to-onnx.js';

const require = createRequire(import.meta.url);

/** Folder of the tfjs graph models that @vladmandic/human ships (blazeface, facemesh, faceres…). */
export function humanModelsDir(): string {
  // the exports map hides package.json and models/, so go from the main entry (dist/…) up
  return join(dirname(require.resolve('@vladmandic/human')), '..', 'models');
}

/** model.json of one shipped model and its weight shards concatenated in manifest order. */
export async function readHumanModelFiles(name: string): Promise<{ model: TfjsGraphModelJson; weightData: Uint8Array }> {
  const jsonPath = join(humanModelsDir(), `${name}.json`);
  const model = JSON.parse(await readFile(jsonPath, 'utf8')) as TfjsGraphModelJson;
  const shards = await Promise.all(model.weightsManifest.flatMap((g) => g.paths.map((p) => readFile(join(dirname(jsonPath), p)))));
  return { model, weightData: new Uint8Array(Buffer.concat(shards)) };
}
