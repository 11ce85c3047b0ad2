import assert from 'node:assert/strict';
import { before, describe, it, type TestContext } from 'node:test';
import * as ort from 'onnxruntime-node';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { initTensorflow, loadHumanModel, tf } from '../helpers/tfjs-reference.ts';
import { loadOnnxHumanModel, type HumanModelName } from '../../src/vision/onnx/onnx-models.ts';
import { tfjsGraphToOnnx } from '../../src/vision/onnx/tfjs-to-onnx.ts';
import { batchOf, faceInput } from '../helpers/face-input.ts';

interface Output {
  data: Float32Array;
  dims: readonly number[];
}

async function runTfjs(model: GraphModel, input: Float32Array, dims: number[], outputs?: string[]): Promise<Output[]> {
  const x = tf.tensor(input, dims, 'float32');
  const result = outputs ? model.execute(x, outputs) : model.execute(x);
  const list = Array.isArray(result) ? result : [result];
  const out = await Promise.all(list.map(async (t) => ({ data: (await t.data()) as Float32Array, dims: t.shape })));
  tf.dispose([x, ...list]);
  return out;
}

/** Same shapes, and |ort − tfjs| ≤ 1e-3·max|tfjs| + 1e-4 everywhere; returns the worst difference per output. */
function assertClose(t: TestContext, label: string, ref: Output[], got: Output[]): number[] {
  assert.equal(got.length, ref.length, `${label}: number of outputs`);
  return ref.map((r, i) => {
    assert.deepEqual([...got[i].dims], [...r.dims], `${label}: output ${i} shape`);
    let maxRef = 0, maxDiff = 0;
    for (let k = 0; k < r.data.length; k++) {
      maxRef = Math.max(maxRef, Math.abs(r.data[k]));
      const d = Math.abs(r.data[k] - got[i].data[k]);
      maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    }
    const tolerance = 1e-3 * maxRef + 1e-4;
    t.diagnostic(`${label} output ${i} [${r.dims}]: max|diff| ${maxDiff.toExponential(2)} (max|ref| ${maxRef.toPrecision(4)}, tolerance ${tolerance.toExponential(2)})`);
    assert.ok(maxDiff <= tolerance, `${label}: output ${i} differs by ${maxDiff} > ${tolerance}`);
    return maxDiff;
  });
}

const INPUTS: Record<HumanModelName, { size: number; crop: number; scale: number; offset: number }> = {
  blazeface: { size: 256, crop: 2.8, scale: 1 / 127.5, offset: -1 },
  facemesh: { size: 192, crop: 1.5, scale: 1 / 255, offset: 0 },
  faceres: { size: 224, crop: 1.2, scale: 1, offset: 0 },
};

describe('tfjs models converted to ONNX agree with tfjs-wasm', () => {
  before(() => initTensorflow());

  const cases: { model: HumanModelName; batch: number; outputs?: string[] }[] = [
    { model: 'blazeface', batch: 1 },
    { model: 'facemesh', batch: 1 },
    { model: 'facemesh', batch: 2 },
    { model: 'faceres', batch: 1 },
    { model: 'faceres', batch: 2, outputs: ['global_pooling/Mean', 'gender_pred/Sigmoid', 'age_pred/Softmax'] },
  ];

  for (const { model, batch, outputs } of cases) {
    it(`${model}, batch ${batch}${outputs ? `, outputs ${outputs.join(', ')}` : ''}`, async (t) => {
      const spec = INPUTS[model];
      const people = (['a', 'b'] as const).slice(0, batch);
      const input = batchOf(await Promise.all(people.map((p) => faceInput(p, spec.size, spec.crop, spec.scale, spec.offset))));
      const dims = [batch, spec.size, spec.size, 3];

      const tfModel = await loadHumanModel(model);
      const onnx = await loadOnnxHumanModel(model, { outputs, threads: 1 });
      try {
        t.diagnostic(`${model}: convert ${onnx.loadTimings.convertMs.toFixed(0)} ms, session ${onnx.loadTimings.sessionMs.toFixed(0)} ms`);
        assert.deepEqual(onnx.outputNames, outputs ?? tfModel.outputNodes);
        const ref = await runTfjs(tfModel, input, dims, outputs);
        // an input that is a view into a larger buffer, as the wrappers pass it
        const padded = new Float32Array(input.length + 16);
        padded.set(input, 8);
        const got = await onnx.runWithDims(padded.subarray(8, 8 + input.length), dims);
        assertClose(t, model, ref, got);
        const plain = await onnx.run(input, dims);
        assert.deepEqual(plain.map((d) => d.length), got.map((o) => o.data.length));
      } finally {
        await onnx.release();
        tfModel.dispose();
      }
    });
  }
});

// --- a small synthetic graph: ops and attributes the shipped models do not exercise ---

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ints = (...v: number[]) => ({ list: { i: v.map(String) } });
const FLOAT = { type: 'DT_FLOAT' };

function pseudoRandom(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 30 - 1;
  });
}

interface SyntheticWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  values: ArrayLike<number>;
  quantize?: 'uint8' | 'uint16';
}

/** A tfjs graph model (JSON + weight bytes) from nodes and weights; quantised weights are stored as tfjs-converter does. */
function syntheticModel(nodes: object[], weights: SyntheticWeight[]) {
  const chunks: Uint8Array[] = [];
  const specs = weights.map((w) => {
    if (!w.quantize) {
      const arr = w.dtype === 'float32' ? Float32Array.from(w.values) : Int32Array.from(w.values);
      chunks.push(new Uint8Array(arr.buffer));
      return { name: w.name, shape: w.shape, dtype: w.dtype };
    }
    const vals = Array.from(w.values);
    const min = Math.min(...vals), max = Math.max(...vals);
    const levels = w.quantize === 'uint8' ? 255 : 65535;
    const scale = (max - min) / levels;
    const q = vals.map((v) => Math.round((v - min) / scale));
    chunks.push(w.quantize === 'uint8' ? Uint8Array.from(q) : new Uint8Array(Uint16Array.from(q).buffer));
    return { name: w.name, shape: w.shape, dtype: w.dtype, quantization: { dtype: w.quantize, scale, min } };
  });
  const weightData = new Uint8Array(Buffer.concat(chunks));
  const consts = weights.map((w) => ({ name: w.name, op: 'Const', attr: { dtype: { type: w.dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32' }, value: { tensor: {} } } }));
  return { model: { modelTopology: { node: [...consts, ...nodes], versions: { producer: 1 } }, weightsManifest: [{ paths: ['w.bin'], weights: specs }] }, weightData };
}

describe('tfjs-to-onnx on a synthetic graph', () => {
  before(() => initTensorflow());

  const placeholder = { name: 'x', op: 'Placeholder', attr: { dtype: FLOAT, shape: { shape: { dim: [{ size: '-1' }, { size: '9' }, { size: '11' }, { size: '3' }] } } } };
  const { model, weightData } = syntheticModel(
    [
      placeholder,
      { name: 'c1', op: '_FusedConv2D', input: ['x', 'c1/w', 'c1/b'], attr: { T: FLOAT, strides: ints(1, 2, 2, 1), padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') }, dilations: ints(1, 1, 1, 1), fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu6')] } }, num_args: { i: '1' } } },
      { name: 'd1', op: 'DepthwiseConv2dNative', input: ['c1', 'd1/w'], attr: { T: FLOAT, strides: ints(1, 1, 1, 1), padding: { s: b64('EXPLICIT') }, explicit_paddings: ints(0, 0, 2, 1, 1, 2, 0, 0), dilations: ints(1, 2, 2, 1) } },
      { name: 'm1', op: 'Mul', input: ['d1', 'm1/c'], attr: { T: FLOAT } },
      { name: 'a1', op: 'AddV2', input: ['m1', 'a1/c'], attr: { T: FLOAT } },
      { name: 'p1', op: 'Prelu', input: ['a1', 'p1/alpha'], attr: { T: FLOAT } },
      { name: 'mp', op: 'MaxPool', input: ['p1'], attr: { T: FLOAT, ksize: ints(1, 3, 3, 1), strides: ints(1, 2, 2, 1), padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') } } },
      { name: 'pd', op: 'Pad', input: ['mp', 'pd/p'], attr: { T: FLOAT } },
      { name: 'mean', op: 'Mean', input: ['pd', 'mean/axes'], attr: { T: FLOAT, keep_dims: { b: false } } },
      { name: 'mm', op: '_FusedMatMul', input: ['mean', 'mm/w', 'mm/b'], attr: { T: FLOAT, transpose_a: { b: false }, transpose_b: { b: false }, fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } }, num_args: { i: '1' } } },
      { name: 'sm', op: 'Softmax', input: ['mm'], attr: { T: FLOAT } },
      { name: 'flat', op: 'Reshape', input: ['pd', 'flat/shape'], attr: { T: FLOAT } },
      { name: 'out', op: 'Identity', input: ['flat'], attr: { T: FLOAT } },
    ],
    [
      { name: 'c1/w', shape: [3, 3, 3, 4], dtype: 'float32', values: pseudoRandom(108, 1), quantize: 'uint8' },
      { name: 'c1/b', shape: [4], dtype: 'float32', values: pseudoRandom(4, 2) },
      { name: 'd1/w', shape: [3, 3, 4, 2], dtype: 'float32', values: pseudoRandom(72, 3), quantize: 'uint16' },
      { name: 'm1/c', shape: [8], dtype: 'float32', values: pseudoRandom(8, 4) },
      { name: 'a1/c', shape: [1, 1, 5, 8], dtype: 'float32', values: pseudoRandom(40, 5) },
      { name: 'p1/alpha', shape: [1, 1, 8], dtype: 'float32', values: pseudoRandom(8, 6) },
      { name: 'pd/p', shape: [4, 2], dtype: 'int32', values: [0, 0, 1, 0, 0, 2, 0, 1] },
      { name: 'mean/axes', shape: [2], dtype: 'int32', values: [1, 2] },
      { name: 'mm/w', shape: [9, 5], dtype: 'float32', values: pseudoRandom(45, 7) },
      { name: 'mm/b', shape: [5], dtype: 'float32', values: pseudoRandom(5, 8) },
      { name: 'flat/shape', shape: [2], dtype: 'int32', values: [-1, 135] },
    ],
  );

  it('matches tfjs for strided SAME, dilated EXPLICIT depthwise (multiplier 2), quantised weights, rank-4 constants, pool, pad, mean, matmul', async (t) => {
    const weightSpecs = model.weightsManifest[0].weights as tf.io.WeightsManifestEntry[];
    const tfModel = await loadGraphModel({
      load: async () => ({ modelTopology: model.modelTopology, weightSpecs, weightData: weightData.slice().buffer }),
    });
    const converted = tfjsGraphToOnnx(model, weightData);
    assert.deepEqual(converted.outputNames, tfModel.outputNodes);
    const session = await ort.InferenceSession.create(converted.bytes, { intraOpNumThreads: 1 });
    try {
      const dims = [2, 9, 11, 3];
      const input = pseudoRandom(2 * 9 * 11 * 3, 9).map((v) => v * 3);
      const ref = await runTfjs(tfModel, input, dims);
      const res = await session.run({ [converted.inputName]: new ort.Tensor('float32', input, dims) });
      const got = converted.outputNames.map((n) => ({ data: res[n].data as Float32Array, dims: res[n].dims }));
      assert.deepEqual(ref.map((r) => r.dims), [[2, 5], [2, 135]]);
      assertClose(t, 'synthetic', ref, got);
    } finally {
      await session.release();
      tfModel.dispose();
    }
  });

  it('refuses an op it does not support, naming it', () => {
    const bad = syntheticModel([placeholder, { name: 'y', op: 'Cumsum', input: ['x', 'axis'], attr: { T: FLOAT } }], [{ name: 'axis', shape: [], dtype: 'int32', values: [1] }]);
    assert.throws(() => tfjsGraphToOnnx(bad.model, bad.weightData), /unsupported op Cumsum \(node y\)/);
  });

  it('refuses attributes it cannot honour, naming them', () => {
    const pool = (attr: object) => syntheticModel([placeholder, { name: 'y', op: 'MaxPool', input: ['x'], attr: { T: FLOAT, ksize: ints(1, 2, 2, 1), strides: ints(1, 2, 2, 1), padding: { s: b64('VALID') }, ...attr } }], []);
    const nchw = pool({ data_format: { s: b64('NCHW') } });
    assert.throws(() => tfjsGraphToOnnx(nchw.model, nchw.weightData), /MaxPool y has data_format NCHW/);
    const unknown = pool({ ceil_mode: { b: true } });
    assert.throws(() => tfjsGraphToOnnx(unknown.model, unknown.weightData), /unsupported attribute ceil_mode on MaxPool node y/);
    const fused = syntheticModel([placeholder, { name: 'y', op: '_FusedConv2D', input: ['x', 'w', 'b'], attr: { T: FLOAT, strides: ints(1, 1, 1, 1), padding: { s: b64('VALID') }, fused_ops: { list: { s: [b64('FusedBatchNorm')] } }, num_args: { i: '1' } } }], [
      { name: 'w', shape: [1, 1, 3, 1], dtype: 'float32', values: [1, 1, 1] },
      { name: 'b', shape: [1], dtype: 'float32', values: [0] },
    ]);
    assert.throws(() => tfjsGraphToOnnx(fused.model, fused.weightData), /unsupported fused_ops \[FusedBatchNorm\]/);
  });
});
