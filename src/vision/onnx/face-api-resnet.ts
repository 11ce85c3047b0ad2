import { OnnxGraphBuilder } from './onnx-graph-builder.js';
import { encodeOnnxModel, OnnxDataType } from './onnx-proto.js';
import type { OnnxConversion } from './tfjs-to-onnx.js';
import { decodeTfjsWeights, type DecodedWeight, type TfjsWeightGroup } from './tfjs-weights.js';

/**
 * The face recognition net of @vladmandic/face-api (dlib's ResNet-34-like face descriptor, 150×150
 * RGB → 128 values) as an ONNX graph built from its weights. face-api ships only weights, no graph:
 * the layers here follow its FaceRecognitionNet.forwardInput (src/faceRecognitionNet/*.ts), so the
 * descriptor is the one face-api computes.
 *
 * Input: NHWC float32 [batch, 150, 150, 3], RGB 0..255. Output: [batch, 128], not normalised.
 */

export const FACE_API_RESNET_INPUT = 150;
const MEAN_RGB = [122.782, 117.001, 104.298];
const OPSET = 13;

/** Shape of an NCHW activation while building (the input size is fixed, so every shape is known). */
interface Act {
  name: string;
  channels: number;
  size: number;
}

export function faceApiResNetToOnnx(manifest: readonly TfjsWeightGroup[], weightData: Uint8Array): OnnxConversion {
  const weights = decodeTfjsWeights(manifest, weightData);
  const b = new OnnxGraphBuilder();
  const inputName = b.reserve('input');
  const outputName = b.reserve('descriptor');
  const weight = (name: string): DecodedWeight => {
    const w = weights.get(name);
    if (!w || w.dtype !== 'float32') throw new Error(`face-api recognition net: weight ${name} missing or not float32`);
    return w;
  };

  /** conv → + bias → × scale + shift (face-api's scale layer), folded into one Conv; then ReLU if asked. */
  const convLayer = (x: Act, prefix: string, stride: 1 | 2, relu: boolean): Act => {
    const filters = weight(`${prefix}/conv/filters`), bias = weight(`${prefix}/conv/bias`);
    const scale = weight(`${prefix}/scale/weights`), shift = weight(`${prefix}/scale/biases`);
    const [kh, kw, cin, cout] = filters.shape;
    if (cin !== x.channels) throw new Error(`face-api recognition net: ${prefix} expects ${cin} channels, gets ${x.channels}`);
    // HWIO → OIHW, each output channel multiplied by its scale
    const w = new Float32Array(cout * cin * kh * kw);
    for (let o = 0; o < cout; o++) {
      for (let i = 0; i < cin; i++) {
        for (let y = 0; y < kh; y++) {
          for (let z = 0; z < kw; z++) w[((o * cin + i) * kh + y) * kw + z] = filters.data[((y * kw + z) * cin + i) * cout + o] * scale.data[o];
        }
      }
    }
    const bb = Float32Array.from({ length: cout }, (_, o) => bias.data[o] * scale.data[o] + shift.data[o]);
    // stride 1 is tfjs 'same' (odd kernels: symmetric); stride 2 is 'valid'
    const pad = stride === 1 ? (kh - 1) / 2 : 0;
    const size = stride === 1 ? x.size : Math.floor((x.size - kh) / 2) + 1;
    let out = b.add('Conv', [x.name, b.floatInit(`${prefix}/w`, [cout, cin, kh, kw], w), b.floatInit(`${prefix}/b`, [cout], bb)], {
      kernel_shape: [kh, kw], strides: [stride, stride], pads: [pad, pad, pad, pad],
    }, prefix);
    if (relu) out = b.add('Relu', [out], {}, `${prefix}/relu`);
    return { name: out, channels: cout, size };
  };

  const pad = (x: Act, base: string, pads: number[]): string => b.add('Pad', [x.name, b.int64Init(`${base}/pads`, pads)], { mode: 'constant' }, base);

  const residual = (x: Act, prefix: string): Act => {
    const a = convLayer(x, `${prefix}/conv1`, 1, true);
    const c = convLayer(a, `${prefix}/conv2`, 1, false);
    const sum = b.add('Add', [c.name, x.name], {}, `${prefix}/add`);
    return { ...c, name: b.add('Relu', [sum], {}, `${prefix}/relu`) };
  };

  /** Halves the size: strided convs beside a 2×2 average pool, zero-padded to meet (as face-api's residualDown). */
  const residualDown = (x: Act, prefix: string): Act => {
    const a = convLayer(x, `${prefix}/conv1`, 2, true);
    let c = convLayer(a, `${prefix}/conv2`, 1, false);
    const pooledSize = Math.floor(x.size / 2);
    if (c.size !== pooledSize) {
      // face-api appends a zero row and column to the conv branch
      const extra = pooledSize - c.size;
      c = { ...c, name: pad(c, `${prefix}/grow`, [0, 0, 0, 0, 0, 0, extra, extra]), size: pooledSize };
    }
    let pooled: Act = { ...x, name: b.add('AveragePool', [x.name], { kernel_shape: [2, 2], strides: [2, 2] }, `${prefix}/pool`), size: pooledSize };
    if (pooled.channels !== c.channels) {
      pooled = { ...pooled, name: pad(pooled, `${prefix}/widen`, [0, 0, 0, 0, 0, c.channels - pooled.channels, 0, 0]), channels: c.channels };
    }
    const sum = b.add('Add', [pooled.name, c.name], {}, `${prefix}/add`);
    return { ...c, name: b.add('Relu', [sum], {}, `${prefix}/relu`) };
  };

  const nchw = b.add('Transpose', [inputName], { perm: [0, 3, 1, 2] }, 'to_nchw');
  const centred = b.add('Sub', [nchw, b.floatInit('mean_rgb', [1, 3, 1, 1], Float32Array.from(MEAN_RGB))], {}, 'centre');
  const scaled = b.add('Mul', [centred, b.floatInit('inv_255', [], Float32Array.of(1 / 255))], {}, 'scale');
  let x = convLayer({ name: scaled, channels: 3, size: FACE_API_RESNET_INPUT }, 'conv32_down', 2, true);
  x = { ...x, name: b.add('MaxPool', [x.name], { kernel_shape: [3, 3], strides: [2, 2] }, 'conv32_pool'), size: Math.floor((x.size - 3) / 2) + 1 };
  for (const p of ['conv32_1', 'conv32_2', 'conv32_3']) x = residual(x, p);
  x = residualDown(x, 'conv64_down');
  for (const p of ['conv64_1', 'conv64_2', 'conv64_3']) x = residual(x, p);
  x = residualDown(x, 'conv128_down');
  for (const p of ['conv128_1', 'conv128_2']) x = residual(x, p);
  x = residualDown(x, 'conv256_down');
  for (const p of ['conv256_1', 'conv256_2']) x = residual(x, p);
  x = residualDown(x, 'conv256_down_out');
  const pooled = b.add('GlobalAveragePool', [x.name], {}, 'global_pool');
  const flat = b.add('Flatten', [pooled], { axis: 1 }, 'flatten');
  const fc = weight('fc');
  if (fc.shape[0] !== x.channels) throw new Error(`face-api recognition net: fc expects ${fc.shape[0]} inputs, gets ${x.channels}`);
  b.add('MatMul', [flat, b.floatInit('fc', fc.shape, fc.data as Float32Array)], {}, 'fc', outputName);

  const bytes = encodeOnnxModel({
    graphName: 'face_api_resnet',
    producerName: 'kirin-face face-api-resnet',
    opsetVersion: OPSET,
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [{ name: inputName, elemType: OnnxDataType.FLOAT, shape: ['batch', FACE_API_RESNET_INPUT, FACE_API_RESNET_INPUT, 3] }],
    outputs: [{ name: outputName, elemType: OnnxDataType.FLOAT }],
  });
  return { bytes, inputName, outputNames: [outputName] };
}
