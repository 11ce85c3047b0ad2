import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { readHumanModelFiles } from '../human-models.js';
import { cachedConversion } from './conversion-cache.js';
import type { ModelOutput } from '../model-runner.js';
import { tfjsGraphToOnnx, type OnnxConversion } from './tfjs-to-onnx.js';

export type HumanModelName = 'blazeface' | 'facemesh' | 'faceres';

/** A face model converted at load time and run by onnxruntime (CPU). */
export interface OnnxHumanModel {
  readonly inputName: string;
  readonly outputNames: readonly string[];
  /** How long loading took: tfjs → ONNX conversion and ORT session creation (ms). */
  readonly loadTimings: { convertMs: number; sessionMs: number };
  /** Runs on a float32 NHWC input; outputs in `outputNames` order. */
  run(input: Float32Array, dims: readonly number[]): Promise<Float32Array[]>;
  /** As `run`, with each output's shape. */
  runWithDims(input: Float32Array, dims: readonly number[]): Promise<ModelOutput[]>;
  release(): Promise<void>;
}

export interface OnnxHumanModelOptions {
  /** Outputs to compute (tfjs node names), as for tfjs `execute(input, outputs)`; default: what `execute(input)` returns. */
  outputs?: string[];
  /** Intra-op threads; default 1. */
  threads?: number;
}

export async function loadOnnxHumanModel(name: HumanModelName, opts: OnnxHumanModelOptions = {}): Promise<OnnxHumanModel> {
  const { model, weightData } = await readHumanModelFiles(name);
  const t0 = performance.now();
  // the model's signature is not used, as test/helpers/tfjs-reference.ts loads the models: default outputs are then the same nodes tfjs returns
  const converted = cachedConversion([name, JSON.stringify(model), weightData, JSON.stringify(opts.outputs ?? [])], () =>
    tfjsGraphToOnnx(model, weightData, { outputs: opts.outputs }),
  );
  return openOnnxModel(name, converted, { threads: opts.threads, convertMs: performance.now() - t0 });
}

/** An onnxruntime session (CPU) on a converted model, behind the same interface as the converted human models. */
export async function openOnnxModel(label: string, converted: OnnxConversion, opts: { threads?: number; convertMs: number }): Promise<OnnxHumanModel> {
  const t1 = performance.now();
  const session = await ort.InferenceSession.create(converted.bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads ?? 1,
    interOpNumThreads: 1,
  });
  const t2 = performance.now();
  const { inputName, outputNames } = converted;

  const runWithDims = async (input: Float32Array, dims: readonly number[]): Promise<ModelOutput[]> => {
    const feed = new ort.Tensor('float32', input, [...dims]);
    const results = await session.run({ [inputName]: feed });
    return outputNames.map((o) => {
      const t = results[o];
      if (t.type !== 'float32') throw new Error(`${label}: output ${o} is ${t.type}, float32 expected`);
      return { data: t.data as Float32Array, dims: t.dims };
    });
  };

  return {
    inputName,
    outputNames,
    loadTimings: { convertMs: opts.convertMs, sessionMs: t2 - t1 },
    runWithDims,
    run: async (input, dims) => (await runWithDims(input, dims)).map((o) => o.data),
    release: () => session.release(),
  };
}
