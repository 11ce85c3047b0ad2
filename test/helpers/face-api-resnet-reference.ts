// face-api's FaceRecognitionNet.forwardInput (node_modules/@vladmandic/face-api/src/faceRecognitionNet)
// written out on tfjs-core's CPU backend: the reference the ONNX graph built from the same weights
// is checked against. face-api's own bundle does not load in Node without tfjs-node.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { faceApiModelFiles } from '../../src/vision/face-recognition-model.ts';

type Weights = tf.NamedTensorMap;

function convLayer(w: Weights, x: tf.Tensor4D, prefix: string, strides: 1 | 2, relu: boolean): tf.Tensor4D {
  let out: tf.Tensor = tf.conv2d(x, w[`${prefix}/conv/filters`] as tf.Tensor4D, strides, strides === 1 ? 'same' : 'valid');
  out = tf.add(out, w[`${prefix}/conv/bias`]);
  out = tf.add(tf.mul(out, w[`${prefix}/scale/weights`]), w[`${prefix}/scale/biases`]);
  return (relu ? tf.relu(out) : out) as tf.Tensor4D;
}

function residual(w: Weights, x: tf.Tensor4D, prefix: string): tf.Tensor4D {
  const out = convLayer(w, convLayer(w, x, `${prefix}/conv1`, 1, true), `${prefix}/conv2`, 1, false);
  return tf.relu(tf.add(out, x)) as tf.Tensor4D;
}

function residualDown(w: Weights, x: tf.Tensor4D, prefix: string): tf.Tensor4D {
  let out = convLayer(w, convLayer(w, x, `${prefix}/conv1`, 2, true), `${prefix}/conv2`, 1, false);
  let pooled = tf.avgPool(x, 2, 2, 'valid');
  if (pooled.shape[1] !== out.shape[1] || pooled.shape[2] !== out.shape[2]) {
    out = tf.concat([out, tf.zeros([out.shape[0], 1, out.shape[2], out.shape[3]])], 1);
    out = tf.concat([out, tf.zeros([out.shape[0], out.shape[1], 1, out.shape[3]])], 2);
  }
  if (pooled.shape[3] !== out.shape[3]) pooled = tf.concat([pooled, tf.zeros(pooled.shape)], 3);
  return tf.relu(tf.add(pooled, out)) as tf.Tensor4D;
}

/** Descriptors (not normalised) of NHWC 150×150 RGB 0..255 inputs, as face-api computes them. */
export async function faceApiDescriptors(input: Float32Array, batch: number): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const { manifest, weightData } = await faceApiModelFiles();
  const w = tf.io.decodeWeights(weightData.slice().buffer, manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[]);
  const out = tf.tidy(() => {
    const x = tf.div(tf.sub(tf.tensor4d(input, [batch, 150, 150, 3]), [122.782, 117.001, 104.298]), 255) as tf.Tensor4D;
    let h = convLayer(w, x, 'conv32_down', 2, true);
    h = tf.maxPool(h, 3, 2, 'valid');
    for (const p of ['conv32_1', 'conv32_2', 'conv32_3']) h = residual(w, h, p);
    h = residualDown(w, h, 'conv64_down');
    for (const p of ['conv64_1', 'conv64_2', 'conv64_3']) h = residual(w, h, p);
    h = residualDown(w, h, 'conv128_down');
    for (const p of ['conv128_1', 'conv128_2']) h = residual(w, h, p);
    h = residualDown(w, h, 'conv256_down');
    for (const p of ['conv256_1', 'conv256_2']) h = residual(w, h, p);
    h = residualDown(w, h, 'conv256_down_out');
    return tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, w.fc as tf.Tensor2D);
  });
  const data = (await out.data()) as Float32Array;
  out.dispose();
  tf.dispose(Object.values(w));
  return data;
}
