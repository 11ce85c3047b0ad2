import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Folder of the tfjs graph models that @vladmandic/human ships (blazeface, facemesh, faceres…). */
export function humanModelsDir(): string {
  // the exports map hides package.json and models/, so go from the main entry (dist/…) up
  return join(dirname(require.resolve('@vladmandic/human')), '..', 'models');
}

export interface HumanModelWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

export interface HumanModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: HumanModelWeightSpec[] }[];
  signature?: unknown;
}

/** model.json of one shipped model and its weight shards concatenated in manifest order. */
export async function readHumanModelFiles(name: string): Promise<{ model: HumanModelJson; weightData: Uint8Array }> {
  const jsonPath = join(humanModelsDir(), `${name}.json`);
  const model = JSON.parse(await readFile(jsonPath, 'utf8')) as HumanModelJson;
  const shards = await Promise.all(model.weightsManifest.flatMap((g) => g.paths.map((p) => readFile(join(dirname(jsonPath), p)))));
  return { model, weightData: new Uint8Array(Buffer.concat(shards)) };
}
