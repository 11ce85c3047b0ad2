import { OnnxGraphBuilder } from './onnx-graph-builder.js';
import { encodeOnnxModel, OnnxDataType } from './onnx-proto.js';
import { dataInputs, defaultOutputs, graphNodes, producerOf, TfjsAttrs, type TfjsNodeDef } from './tfjs-graph.js';
import { decodeTfjsWeights, elementCount, type DecodedWeight, type TfjsWeightGroup } from './tfjs-weights.js';

/**
 * Converts a tfjs graph model (model.json + weight bytes) into an ONNX model computing what tfjs
 * `model.execute(input, outputs)` computes. The ONNX input and outputs keep TensorFlow's NHWC layout;
 * inside, 4-D activations move to NCHW once and stay there through convolutions, pooling, padding and
 * element-wise ops, and go back to NHWC only before an op whose meaning depends on layout.
 */

export interface TfjsGraphModelJson {
  modelTopology: unknown;
  weightsManifest: readonly TfjsWeightGroup[];
}

export interface OnnxConversion {
  bytes: Uint8Array;
  inputName: string;
  outputNames: string[];
}

const OPSET = 13;

export function tfjsGraphToOnnx(
  model: TfjsGraphModelJson,
  weightData: Uint8Array | ArrayBuffer,
  opts: { outputs?: string[] } = {},
): OnnxConversion {
  const nodes = graphNodes(model.modelTopology);
  const weights = decodeTfjsWeights(model.weightsManifest, weightData);
  const requested = opts.outputs?.length
    ? opts.outputs.map((name) => ({ name, tensor: name }))
    : defaultOutputs(nodes);
  if (requested.length === 0) throw new Error('tfjs model: no outputs to convert');
  return new Converter(nodes, weights).convert(requested);
}

type Layout = 'NHWC' | 'NCHW';

/** A runtime tensor: `shape` is always TensorFlow's (NHWC) shape, -1 where unknown. */
interface SymValue {
  kind: 'tensor';
  name: string;
  shape: number[];
  /** Layout of `name` (always NHWC unless rank 4). */
  layout: Layout;
  otherLayout?: string;
}

interface ConstValue {
  kind: 'const';
  tfName: string;
  weight: DecodedWeight;
}

type Value = SymValue | ConstValue;

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];
/** Position in NCHW of each NHWC axis. */
const NHWC_AXIS_IN_NCHW = [0, 2, 3, 1];

const CONV_ATTRS = ['T', 'strides', 'padding', 'explicit_paddings', 'data_format', 'dilations', 'use_cudnn_on_gpu'];
const FUSED_ATTRS = ['fused_ops', 'num_args', 'epsilon', 'leakyrelu_alpha'];
const KNOWN_ATTRS: Record<string, string[]> = {
  Placeholder: ['dtype', 'shape'],
  Const: ['dtype', 'value'],
  Identity: ['T'],
  Conv2D: CONV_ATTRS,
  _FusedConv2D: [...CONV_ATTRS, ...FUSED_ATTRS],
  DepthwiseConv2dNative: CONV_ATTRS,
  FusedDepthwiseConv2dNative: [...CONV_ATTRS, ...FUSED_ATTRS],
  MaxPool: ['T', 'ksize', 'strides', 'padding', 'data_format', 'explicit_paddings'],
  Pad: ['T', 'Tpaddings'],
  Reshape: ['T', 'Tshape'],
  Mean: ['T', 'Tidx', 'keep_dims'],
  Softmax: ['T'],
  MatMul: ['T', 'transpose_a', 'transpose_b'],
  _FusedMatMul: ['T', 'transpose_a', 'transpose_b', ...FUSED_ATTRS],
  Add: ['T'], AddV2: ['T'], Sub: ['T'], Mul: ['T'], RealDiv: ['T'], Minimum: ['T'], Maximum: ['T'],
  Relu: ['T'], Relu6: ['T'], Elu: ['T'], Sigmoid: ['T'], Prelu: ['T'], LeakyRelu: ['T', 'alpha'],
};

const BINARY_OPS: Record<string, string> = {
  Add: 'Add', AddV2: 'Add', Sub: 'Sub', Mul: 'Mul', RealDiv: 'Div', Minimum: 'Min', Maximum: 'Max',
};
const ACTIVATION_OPS: Record<string, string> = {
  Relu: 'relu', Relu6: 'relu6', Elu: 'elu', Sigmoid: 'sigmoid', LeakyRelu: 'leakyrelu',
};

class Converter {
  private readonly b = new OnnxGraphBuilder();
  private readonly byName: Map<string, TfjsNodeDef>;
  private readonly values = new Map<string, Value>();
  private readonly constInits = new Map<string, string>();
  private readonly scalars = new Map<number, string>();
  private inputName?: string;

  constructor(nodes: readonly TfjsNodeDef[], private readonly weights: Map<string, DecodedWeight>) {
    this.byName = new Map(nodes.map((n) => [n.name, n]));
  }

  convert(requested: { name: string; tensor: string }[]): OnnxConversion {
    const outputNames = requested.map((r) => this.b.reserve(r.name));
    // reserve the input name before any fresh name can take it
    const placeholders = [...this.byName.values()].filter((n) => n.op === 'Placeholder');
    for (const p of placeholders) this.b.reserve(p.name);

    const outputs = requested.map((r) => this.valueOf(producerOf(r.tensor)));
    if (!this.inputName) throw new Error('tfjs model: the requested outputs do not depend on any Placeholder input');
    const placeholder = this.byName.get(this.inputName)!;

    outputs.forEach((v, i) => this.emitOutput(v, outputNames[i]));
    const bytes = encodeOnnxModel({
      graphName: 'tfjs_graph',
      producerName: 'kirin-face tfjs-to-onnx',
      opsetVersion: OPSET,
      nodes: this.b.nodes,
      initializers: this.b.initializers,
      inputs: [{ name: this.inputName, elemType: OnnxDataType.FLOAT, shape: placeholderShape(placeholder).map((d, i) => (d >= 0 ? d : i === 0 ? 'batch' : `dim${i}`)) }],
      outputs: outputNames.map((name) => ({ name, elemType: OnnxDataType.FLOAT })),
    });
    return { bytes, inputName: this.inputName, outputNames };
  }

  /** Converts a node (and, first, everything it depends on) and returns its value. */
  private valueOf(nodeName: string): Value {
    const done = this.values.get(nodeName);
    if (done) return done;
    const node = this.byName.get(nodeName);
    if (!node) throw new Error(`tfjs model: no node named ${nodeName}`);
    const inputs = dataInputs(node).map((i) => this.valueOf(producerOf(i)));
    const value = this.convertNode(node, inputs);
    this.values.set(nodeName, value);
    return value;
  }

  private convertNode(node: TfjsNodeDef, inputs: Value[]): Value {
    checkAttributes(node);
    const attrs = new TfjsAttrs(node);
    const op = node.op;
    switch (op) {
      case 'Placeholder':
        return this.placeholder(node, attrs);
      case 'Const': {
        const weight = this.weights.get(node.name);
        if (!weight) throw new Error(`tfjs model: Const ${node.name} has no entry in the weights manifest`);
        return { kind: 'const', tfName: node.name, weight };
      }
      case 'Identity':
        return inputs[0];
      case 'Conv2D':
      case 'DepthwiseConv2dNative':
      case '_FusedConv2D':
      case 'FusedDepthwiseConv2dNative':
        return this.conv(node, attrs, inputs);
      case 'MaxPool':
        return this.maxPool(node, attrs, inputs);
      case 'Pad':
        return this.pad(node, inputs);
      case 'Reshape':
        return this.reshape(node, inputs);
      case 'Mean':
        return this.mean(node, attrs, inputs);
      case 'Softmax': {
        const x = this.sym(node, inputs[0]);
        const axis = x.shape.length === 4 && x.layout === 'NCHW' ? 1 : x.shape.length - 1;
        return { ...x, otherLayout: undefined, name: this.b.add('Softmax', [x.name], { axis }, node.name) };
      }
      case 'MatMul':
      case '_FusedMatMul':
        return this.matMul(node, attrs, inputs);
      case 'Prelu':
        return this.activation(node, this.sym(node, inputs[0]), 'prelu', inputs[1], 0);
      default:
        if (BINARY_OPS[op]) return this.binary(node, BINARY_OPS[op], inputs[0], inputs[1]);
        if (ACTIVATION_OPS[op]) return this.activation(node, this.sym(node, inputs[0]), ACTIVATION_OPS[op], undefined, attrs.float('alpha', 0.2));
        throw new Error(`tfjs-to-onnx: unsupported op ${op} (node ${node.name})`);
    }
  }

  private placeholder(node: TfjsNodeDef, attrs: TfjsAttrs): SymValue {
    if (attrs.type('dtype') !== 'DT_FLOAT') throw new Error(`tfjs-to-onnx: input ${node.name} has dtype ${attrs.type('dtype')}; only DT_FLOAT is supported`);
    if (this.inputName) throw new Error(`tfjs-to-onnx: more than one Placeholder input (${this.inputName}, ${node.name}); only single-input models are supported`);
    this.inputName = node.name;
    return { kind: 'tensor', name: node.name, shape: placeholderShape(node), layout: 'NHWC' };
  }

  private conv(node: TfjsNodeDef, attrs: TfjsAttrs, inputs: Value[]): Value {
    const depthwise = node.op.includes('Depthwise');
    const x = this.sym(node, inputs[0]);
    const filter = this.constant(node, inputs[1], 'filter');
    checkNhwc(node, attrs);
    if (x.shape.length !== 4 || filter.weight.shape.length !== 4) throw new Error(`tfjs-to-onnx: ${node.op} ${node.name} needs 4-D input and filter`);
    const [kh, kw, ci, co] = filter.weight.shape;
    const [n, h, w, c] = x.shape;
    if (c >= 0 && c !== ci) throw new Error(`tfjs-to-onnx: ${node.name}: input has ${c} channels, filter expects ${ci}`);
    const strides = spatialPair(node, 'strides', attrs.ints('strides'));
    const dilations = spatialPair(node, 'dilations', attrs.ints('dilations', [1, 1, 1, 1]));
    const geometry = windowGeometry(node, attrs, [h, w], [kh, kw], strides, dilations);
    const outChannels = depthwise ? ci * co : co;

    const weightName = depthwise
      ? this.b.floatInit(`${filter.tfName}_oihw`, [ci * co, 1, kh, kw], depthwiseToOihw(filter.weight))
      : this.b.floatInit(`${filter.tfName}_oihw`, [co, ci, kh, kw], hwioToOihw(filter.weight));
    const convInputs = [this.nchw(x), weightName];

    const fused = node.op.startsWith('_Fused') || node.op.startsWith('Fused') ? parseFusedOps(node, attrs) : { bias: false, activation: undefined };
    let next = 2;
    if (fused.bias) {
      const bias = this.constant(node, inputs[next++], 'bias');
      if (elementCount(bias.weight.shape) !== outChannels) throw new Error(`tfjs-to-onnx: ${node.name}: bias has ${elementCount(bias.weight.shape)} values for ${outChannels} channels`);
      convInputs.push(this.b.floatInit(bias.tfName, [outChannels], floatData(node, bias)));
    }
    const out: SymValue = {
      kind: 'tensor',
      layout: 'NCHW',
      shape: [n, geometry.out[0], geometry.out[1], outChannels],
      name: this.b.add('Conv', convInputs, {
        kernel_shape: [kh, kw],
        strides,
        dilations,
        group: depthwise ? ci : 1,
        ...geometry.onnxPadding,
      }, fused.activation ? `${node.name}/conv` : node.name),
    };
    return fused.activation ? this.activation(node, out, fused.activation, inputs[next], attrs.float('leakyrelu_alpha', 0.2)) : out;
  }

  private maxPool(node: TfjsNodeDef, attrs: TfjsAttrs, inputs: Value[]): Value {
    const x = this.sym(node, inputs[0]);
    checkNhwc(node, attrs);
    if (x.shape.length !== 4) throw new Error(`tfjs-to-onnx: MaxPool ${node.name} needs a 4-D input`);
    const kernel = spatialPair(node, 'ksize', attrs.ints('ksize'));
    const strides = spatialPair(node, 'strides', attrs.ints('strides'));
    const geometry = windowGeometry(node, attrs, [x.shape[1], x.shape[2]], kernel, strides, [1, 1]);
    return {
      kind: 'tensor',
      layout: 'NCHW',
      shape: [x.shape[0], geometry.out[0], geometry.out[1], x.shape[3]],
      name: this.b.add('MaxPool', [this.nchw(x)], { kernel_shape: kernel, strides, ...geometry.onnxPadding }, node.name),
    };
  }

  private pad(node: TfjsNodeDef, inputs: Value[]): Value {
    const x = this.sym(node, inputs[0]);
    const paddings = Array.from(this.constant(node, inputs[1], 'paddings').weight.data);
    const rank = x.shape.length;
    if (paddings.length !== rank * 2) throw new Error(`tfjs-to-onnx: Pad ${node.name}: ${paddings.length / 2} padding rows for a rank-${rank} input`);
    const nchw = rank === 4 && x.layout === 'NCHW';
    const order = nchw ? TO_NCHW : [...Array(rank).keys()];
    const pads = [...order.map((a) => paddings[2 * a]), ...order.map((a) => paddings[2 * a + 1])];
    const shape = x.shape.map((d, a) => (d < 0 ? d : d + paddings[2 * a] + paddings[2 * a + 1]));
    const name = this.b.add('Pad', [nchw ? x.name : this.nhwc(x), this.b.int64Init(`${node.name}/pads`, pads)], { mode: 'constant' }, node.name);
    return { kind: 'tensor', name, shape, layout: nchw ? 'NCHW' : 'NHWC' };
  }

  private reshape(node: TfjsNodeDef, inputs: Value[]): Value {
    const x = this.sym(node, inputs[0]);
    const target = Array.from(this.constant(node, inputs[1], 'shape').weight.data);
    if (target.includes(0)) throw new Error(`tfjs-to-onnx: Reshape ${node.name} to a shape with a 0 dimension is not supported`);
    const known = x.shape.every((d) => d >= 0) ? elementCount(x.shape) : undefined;
    const rest = elementCount(target.filter((d) => d !== -1));
    const shape = target.map((d) => (d === -1 && known !== undefined ? known / rest : d));
    const name = this.b.add('Reshape', [this.nhwc(x), this.b.int64Init(`${node.name}/shape`, target)], {}, node.name);
    return { kind: 'tensor', name, shape, layout: 'NHWC' };
  }

  private mean(node: TfjsNodeDef, attrs: TfjsAttrs, inputs: Value[]): Value {
    const x = this.sym(node, inputs[0]);
    const rank = x.shape.length;
    const axes = [...new Set(Array.from(this.constant(node, inputs[1], 'axes').weight.data).map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
    if (axes.some((a) => a < 0 || a >= rank)) throw new Error(`tfjs-to-onnx: Mean ${node.name}: axis out of range for rank ${rank}`);
    const keepDims = attrs.bool('keep_dims');
    const shape = keepDims ? x.shape.map((d, a) => (axes.includes(a) ? 1 : d)) : x.shape.filter((_, a) => !axes.includes(a));
    if (axes.length === 0) return { ...x, shape };
    // reduce in NCHW when the surviving axes keep their NHWC order (always true with keep_dims)
    const kept = [...Array(rank).keys()].filter((a) => !axes.includes(a)).map((a) => NHWC_AXIS_IN_NCHW[a]);
    const inNchw = rank === 4 && x.layout === 'NCHW' && (keepDims || kept.every((p, i) => i === 0 || p > kept[i - 1]));
    const onnxAxes = inNchw ? axes.map((a) => NHWC_AXIS_IN_NCHW[a]) : axes;
    const name = this.b.add('ReduceMean', [inNchw ? x.name : this.nhwc(x)], { axes: onnxAxes, keepdims: keepDims ? 1 : 0 }, node.name);
    return { kind: 'tensor', name, shape, layout: inNchw && keepDims ? 'NCHW' : 'NHWC' };
  }

  private matMul(node: TfjsNodeDef, attrs: TfjsAttrs, inputs: Value[]): Value {
    const a = this.sym(node, inputs[0]);
    const bValue = inputs[1];
    const bShape = bValue.kind === 'const' ? bValue.weight.shape : bValue.shape;
    if (a.shape.length !== 2 || bShape.length !== 2) throw new Error(`tfjs-to-onnx: ${node.op} ${node.name}: only 2-D operands are supported`);
    const transA = attrs.bool('transpose_a'), transB = attrs.bool('transpose_b');
    const fused = node.op === '_FusedMatMul' ? parseFusedOps(node, attrs) : { bias: false, activation: undefined };
    const m = transA ? a.shape[1] : a.shape[0];
    const k = transB ? bShape[1] : bShape[0];
    const nOut = transB ? bShape[0] : bShape[1];
    const aK = transA ? a.shape[0] : a.shape[1];
    if (aK >= 0 && k >= 0 && aK !== k) throw new Error(`tfjs-to-onnx: ${node.name}: inner dimensions ${aK} and ${k} differ`);
    const gemmInputs = [a.name, this.operand(node, bValue)];
    let next = 2;
    if (fused.bias) {
      const bias = this.constant(node, inputs[next++], 'bias');
      gemmInputs.push(this.b.floatInit(bias.tfName, [elementCount(bias.weight.shape)], floatData(node, bias)));
    }
    const out: SymValue = {
      kind: 'tensor',
      layout: 'NHWC',
      shape: [m, nOut],
      name: this.b.add('Gemm', gemmInputs, { transA: transA ? 1 : 0, transB: transB ? 1 : 0 }, fused.activation ? `${node.name}/gemm` : node.name),
    };
    return fused.activation ? this.activation(node, out, fused.activation, inputs[next], attrs.float('leakyrelu_alpha', 0.2)) : out;
  }

  private binary(node: TfjsNodeDef, onnxOp: string, a: Value, b: Value): Value {
    const tensors = [a, b].filter((v): v is SymValue => v.kind === 'tensor');
    if (tensors.length === 0) throw new Error(`tfjs-to-onnx: ${node.op} ${node.name} has only constant inputs (constant folding is not supported)`);
    const rankOf = (v: Value) => (v.kind === 'tensor' ? v.shape.length : v.weight.shape.length);
    // stay in NCHW if a 4-D operand already is and every operand can follow it there
    const layout: Layout =
      tensors.some((t) => t.shape.length === 4 && t.layout === 'NCHW') && tensors.every((t) => t.shape.length === 4) && [a, b].every((v) => rankOf(v) <= 4)
        ? 'NCHW'
        : 'NHWC';
    const names = [a, b].map((v) => (v.kind === 'const' ? this.constIn(node, v, layout) : layout === 'NCHW' ? this.nchw(v) : this.nhwc(v)));
    const shape = broadcastShapes(
      a.kind === 'tensor' ? a.shape : a.weight.shape,
      b.kind === 'tensor' ? b.shape : b.weight.shape,
      node,
    );
    return { kind: 'tensor', name: this.b.add(onnxOp, names, {}, node.name), shape, layout: shape.length === 4 ? layout : 'NHWC' };
  }

  /** Applies a tfjs activation ('relu', 'prelu'…) to `x`, keeping its layout. */
  private activation(node: TfjsNodeDef, x: SymValue, activation: string, alpha: Value | undefined, leakyAlpha: number): SymValue {
    const base = node.name;
    let name: string;
    switch (activation) {
      case 'relu':
        name = this.b.add('Relu', [x.name], {}, base);
        break;
      case 'relu6':
        name = this.b.add('Clip', [x.name, this.scalar(`${base}/min`, 0), this.scalar(`${base}/max`, 6)], {}, base);
        break;
      case 'elu':
        name = this.b.add('Elu', [x.name], { alpha: { float: 1 } }, base);
        break;
      case 'sigmoid':
        name = this.b.add('Sigmoid', [x.name], {}, base);
        break;
      case 'leakyrelu':
        name = this.b.add('LeakyRelu', [x.name], { alpha: { float: leakyAlpha } }, base);
        break;
      case 'prelu': {
        if (!alpha) throw new Error(`tfjs-to-onnx: ${node.op} ${node.name}: Prelu needs an alpha input`);
        // Relu(x) + alpha·Min(x, 0), the same numbers as PRelu: onnxruntime's PRelu kernel
        // branches on every element's sign, which a real image makes unpredictable (the mesh
        // ran 2.5× slower on noise than on a patterned input); these three ops do not branch
        const positive = this.b.add('Relu', [x.name], {}, base);
        const negative: SymValue = { kind: 'tensor', name: this.b.add('Min', [x.name, this.scalar(`${base}/zero`, 0)], {}, base), shape: x.shape, layout: x.layout };
        const scaled = this.binary(node, 'Mul', negative, alpha) as SymValue;
        name = this.b.add('Add', [positive, scaled.name], {}, base);
        return { kind: 'tensor', name, shape: scaled.shape, layout: scaled.layout };
      }
      default:
        throw new Error(`tfjs-to-onnx: unsupported activation ${activation} on ${node.op} ${node.name}`);
    }
    return { kind: 'tensor', name, shape: x.shape, layout: x.layout };
  }

  private emitOutput(v: Value, outputName: string): void {
    if (v.kind === 'const') {
      this.b.add('Identity', [this.constIn(undefined, v, 'NHWC')], {}, outputName, outputName);
    } else if (v.shape.length === 4 && v.layout === 'NCHW') {
      this.b.add('Transpose', [v.name], { perm: TO_NHWC }, outputName, outputName);
    } else {
      this.b.add('Identity', [v.name], {}, outputName, outputName);
    }
  }

  private sym(node: TfjsNodeDef, v: Value | undefined): SymValue {
    if (!v) throw new Error(`tfjs-to-onnx: ${node.op} ${node.name} is missing an input`);
    if (v.kind !== 'tensor') throw new Error(`tfjs-to-onnx: ${node.op} ${node.name} on a constant input is not supported (constant folding is not implemented)`);
    return v;
  }

  private constant(node: TfjsNodeDef, v: Value | undefined, role: string): ConstValue {
    if (!v || v.kind !== 'const') throw new Error(`tfjs-to-onnx: ${node.op} ${node.name}: its ${role} must be a constant`);
    return v;
  }

  private operand(node: TfjsNodeDef, v: Value): string {
    return v.kind === 'const' ? this.constIn(node, v, 'NHWC') : this.nhwc(v);
  }

  private nhwc(v: SymValue): string {
    if (v.shape.length !== 4 || v.layout === 'NHWC') return v.name;
    v.otherLayout ??= this.b.add('Transpose', [v.name], { perm: TO_NHWC }, `${v.name}/nhwc`);
    return v.otherLayout;
  }

  private nchw(v: SymValue): string {
    if (v.shape.length !== 4) throw new Error(`tfjs-to-onnx: tensor ${v.name} of rank ${v.shape.length} used where a 4-D NHWC tensor is expected`);
    if (v.layout === 'NCHW') return v.name;
    v.otherLayout ??= this.b.add('Transpose', [v.name], { perm: TO_NCHW }, `${v.name}/nchw`);
    return v.otherLayout;
  }

  /**
   * A constant as an initializer. For an NCHW partner, a constant that broadcasts in NHWC (shape [C],
   * [1,1,C], [1,H,W,C]…) is expanded to rank 4 and its axes permuted, so it broadcasts the same way in NCHW.
   */
  private constIn(node: TfjsNodeDef | undefined, c: ConstValue, layout: Layout): string {
    const key = `${c.tfName}|${layout}`;
    const cached = this.constInits.get(key);
    if (cached) return cached;
    const { shape, dtype, data } = c.weight;
    let name: string;
    if (layout === 'NCHW' && shape.length > 0) {
      const [n, h, w, ch] = [...Array(4 - shape.length).fill(1), ...shape] as number[];
      name = this.b.floatInit(`${c.tfName}_nchw`, [n, ch, h, w], permuteNhwcToNchw(floatData(node, c), [n, h, w, ch]));
    } else if (dtype === 'float32') {
      name = this.b.floatInit(c.tfName, shape, data as Float32Array);
    } else {
      name = this.b.int32Init(c.tfName, shape, data as Int32Array);
    }
    this.constInits.set(key, name);
    return name;
  }

  /** A float scalar initializer; one per value, shared by every node that reads it (the mesh's 28 PRelu layers read one zero). */
  private scalar(base: string, value: number): string {
    let name = this.scalars.get(value);
    if (name === undefined) {
      name = this.b.floatInit(base, [], Float32Array.of(value));
      this.scalars.set(value, name);
    }
    return name;
  }
}

function checkAttributes(node: TfjsNodeDef): void {
  const known = KNOWN_ATTRS[node.op];
  if (!known) return; // the op itself is refused by convertNode
  const attrs = new TfjsAttrs(node);
  for (const key of attrs.keys()) {
    if (key.startsWith('_')) continue; // TensorFlow bookkeeping (_cloned, _output_shapes…), no effect on values
    if (!known.includes(key)) throw new Error(`tfjs-to-onnx: unsupported attribute ${key} on ${node.op} node ${node.name}`);
  }
  const t = attrs.type('T');
  if (t !== undefined && t !== 'DT_FLOAT') throw new Error(`tfjs-to-onnx: ${node.op} ${node.name} has T=${t}; only DT_FLOAT tensors are supported`);
}

function checkNhwc(node: TfjsNodeDef, attrs: TfjsAttrs): void {
  const format = attrs.string('data_format', 'NHWC');
  if (format !== 'NHWC') throw new Error(`tfjs-to-onnx: ${node.op} ${node.name} has data_format ${format}; only NHWC is supported`);
}

function placeholderShape(node: TfjsNodeDef): number[] {
  const shape = node.attr?.shape?.shape;
  if (!shape || shape.unknownRank) throw new Error(`tfjs-to-onnx: input ${node.name} has no static rank`);
  return (shape.dim ?? []).map((d) => Number(d.size ?? -1));
}

/** [1, a, b, 1] → [a, b] (TensorFlow puts batch and channel entries around the spatial ones). */
function spatialPair(node: TfjsNodeDef, key: string, v: number[]): [number, number] {
  if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw new Error(`tfjs-to-onnx: ${node.op} ${node.name}: unsupported ${key} [${v}] (needs [1, h, w, 1])`);
  return [v[1], v[2]];
}

interface WindowGeometry {
  out: [number, number];
  onnxPadding: { pads: number[] } | { auto_pad: string };
}

/** Output size and ONNX padding for a conv/pool window, following TensorFlow's SAME/VALID/EXPLICIT rules. */
function windowGeometry(
  node: TfjsNodeDef,
  attrs: TfjsAttrs,
  input: [number, number],
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): WindowGeometry {
  const padding = attrs.string('padding');
  const explicit = attrs.has('explicit_paddings') ? attrs.ints('explicit_paddings') : [];
  if (padding !== 'EXPLICIT' && explicit.length > 0) throw new Error(`tfjs-to-onnx: ${node.name}: explicit_paddings given with padding ${padding}`);
  const extent = [0, 1].map((i) => (kernel[i] - 1) * dilations[i] + 1);
  if (padding === 'VALID') {
    return {
      out: [0, 1].map((i) => (input[i] < 0 ? -1 : Math.floor((input[i] - extent[i]) / strides[i]) + 1)) as [number, number],
      onnxPadding: { pads: [0, 0, 0, 0] },
    };
  }
  if (padding === 'SAME') {
    const out = [0, 1].map((i) => (input[i] < 0 ? -1 : Math.ceil(input[i] / strides[i]))) as [number, number];
    if (out.some((o) => o < 0)) return { out, onnxPadding: { auto_pad: 'SAME_UPPER' } }; // same rule: the odd pixel goes at the end
    const total = [0, 1].map((i) => Math.max((out[i] - 1) * strides[i] + extent[i] - input[i], 0));
    const begin = total.map((t) => Math.floor(t / 2));
    return { out, onnxPadding: { pads: [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]] } };
  }
  if (padding === 'EXPLICIT') {
    if (explicit.length !== 8 || explicit[0] || explicit[1] || explicit[6] || explicit[7]) {
      throw new Error(`tfjs-to-onnx: ${node.name}: explicit_paddings [${explicit}] must be 8 values with no batch/channel padding`);
    }
    const [top, bottom, left, right] = explicit.slice(2, 6);
    const padded = [input[0] + top + bottom, input[1] + left + right];
    return {
      out: [0, 1].map((i) => (input[i] < 0 ? -1 : Math.floor((padded[i] - extent[i]) / strides[i]) + 1)) as [number, number],
      onnxPadding: { pads: [top, left, bottom, right] },
    };
  }
  throw new Error(`tfjs-to-onnx: ${node.op} ${node.name}: unsupported padding ${padding}`);
}

/** fused_ops of _FusedConv2D/_FusedMatMul, as tfjs reads them: [BiasAdd] or [BiasAdd, activation]. */
function parseFusedOps(node: TfjsNodeDef, attrs: TfjsAttrs): { bias: boolean; activation?: string } {
  const ops = attrs.strings('fused_ops').map((s) => s.toLowerCase());
  const supported = ['relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'];
  if (ops.length === 0 || ops[0] !== 'biasadd' || ops.length > 2 || (ops.length === 2 && !supported.includes(ops[1]))) {
    throw new Error(`tfjs-to-onnx: ${node.op} ${node.name}: unsupported fused_ops [${attrs.strings('fused_ops')}]`);
  }
  const numArgs = attrs.int('num_args', ops[1] === 'prelu' ? 2 : 1);
  const expected = ops[1] === 'prelu' ? 2 : 1;
  if (numArgs !== expected || dataInputs(node).length !== 2 + expected) {
    throw new Error(`tfjs-to-onnx: ${node.op} ${node.name}: fused_ops [${ops}] need ${expected} extra inputs, got num_args ${numArgs}`);
  }
  return { bias: true, activation: ops[1] };
}

function floatData(node: TfjsNodeDef | undefined, c: ConstValue): Float32Array {
  if (c.weight.dtype !== 'float32') throw new Error(`tfjs-to-onnx: constant ${c.tfName}${node ? ` (used by ${node.name})` : ''} is ${c.weight.dtype}, float32 expected`);
  return c.weight.data as Float32Array;
}

function broadcastShapes(a: number[], b: number[], node: TfjsNodeDef): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1, y = b[b.length - rank + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1 || x === y) out.push(x);
    else if (x < 0 || y < 0) out.push(Math.max(x, y));
    else throw new Error(`tfjs-to-onnx: ${node.op} ${node.name}: shapes [${a}] and [${b}] do not broadcast`);
  }
  return out;
}

/** TensorFlow conv filter [H, W, in, out] → ONNX [out, in, H, W]. */
function hwioToOihw(f: DecodedWeight): Float32Array {
  const [H, W, I, O] = f.shape;
  const src = f.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let h = 0; h < H; h++)
    for (let w = 0; w < W; w++)
      for (let i = 0; i < I; i++)
        for (let o = 0; o < O; o++) out[((o * I + i) * H + h) * W + w] = src[((h * W + w) * I + i) * O + o];
  return out;
}

/** TensorFlow depthwise filter [H, W, C, M] → ONNX grouped-conv weight [C·M, 1, H, W] (output channel c·M + m, as TF orders them). */
function depthwiseToOihw(f: DecodedWeight): Float32Array {
  const [H, W, C, M] = f.shape;
  const src = f.data as Float32Array;
  const out = new Float32Array(src.length);
  for (let h = 0; h < H; h++)
    for (let w = 0; w < W; w++)
      for (let c = 0; c < C; c++)
        for (let m = 0; m < M; m++) out[((c * M + m) * H + h) * W + w] = src[((h * W + w) * C + c) * M + m];
  return out;
}

function permuteNhwcToNchw(src: Float32Array, [N, H, W, C]: number[]): Float32Array {
  const out = new Float32Array(src.length);
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let c = 0; c < C; c++) out[((n * C + c) * H + h) * W + w] = src[((n * H + h) * W + w) * C + c];
  return out;
}
