/**
 * Per-call time of each face model on tfjs (wasm backend) and on onnxruntime-node (CPU, 1 thread):
 * median of 20 calls after 5 warm-up calls, batch 1.
 *   node --import tsx scripts/model-timing.ts
 */
import { performance } from 'node:perf_hooks';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { initTensorflow, loadHumanModel, tf } from '../test/helpers/tfjs-reference.js';
import { loadOnnxHumanModel, type HumanModelName } from '../src/vision/onnx/onnx-models.js';

const MODELS: [HumanModelName, number][] = [['blazeface', 256], ['facemesh', 192], ['faceres', 224]];
const WARMUP = 5, CALLS = 20;

async function medianMs(call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await call();
  const times: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return (times[(CALLS - 1) >> 1] + times[CALLS >> 1]) / 2;
}

await initTensorflow();
console.log(`tfjs-wasm threads: ${getThreadsCount()}; onnxruntime-node: 1 intra-op thread`);
console.log('model       tfjs-wasm ms   ORT ms   speed-up');
for (const [name, size] of MODELS) {
  const dims = [1, size, size, 3];
  const input = Float32Array.from({ length: size * size * 3 }, (_, i) => ((i * 7919) % 256) / 255);

  const tfModel = await loadHumanModel(name);
  const tfjsMs = await medianMs(async () => {
    const x = tf.tensor(input, dims, 'float32');
    const out = tfModel.execute(x);
    const list = Array.isArray(out) ? out : [out];
    await Promise.all(list.map((t) => t.data()));
    tf.dispose([x, ...list]);
  });
  tfModel.dispose();

  const onnx = await loadOnnxHumanModel(name, { threads: 1 });
  const ortMs = await medianMs(() => onnx.run(input, dims));
  await onnx.release();

  console.log(`${name.padEnd(10)}  ${tfjsMs.toFixed(2).padStart(12)}  ${ortMs.toFixed(2).padStart(7)}   ${(tfjsMs / ortMs).toFixed(2)}×`);
}
