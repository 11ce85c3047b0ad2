import { ProtobufWriter } from './protobuf-writer.js';

/** The subset of ONNX (onnx.proto, IR 8) this project writes: field numbers from the spec. */

export const OnnxDataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

export type OnnxAttributeValue = number | string | number[] | { float: number } | { floats: number[] };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, OnnxAttributeValue>;
}

export interface OnnxTensor {
  name: string;
  dataType: OnnxDataType;
  dims: number[];
  /** Little-endian element bytes (raw_data). */
  raw: Uint8Array;
}

export interface OnnxValueInfo {
  name: string;
  elemType: OnnxDataType;
  /** Dimension sizes, or a symbolic name for a dynamic one; omitted = shape unknown. */
  shape?: (number | string)[];
}

export interface OnnxModel {
  graphName: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  opsetVersion: number;
  producerName: string;
}

const IR_VERSION = 8;

/** Serialises a ModelProto. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const graph = new ProtobufWriter();
  for (const n of model.nodes) graph.message(1, encodeNode(n));
  graph.string(2, model.graphName);
  for (const t of model.initializers) graph.message(5, encodeTensor(t));
  for (const v of model.inputs) graph.message(11, encodeValueInfo(v));
  for (const v of model.outputs) graph.message(12, encodeValueInfo(v));

  const opset = new ProtobufWriter().string(1, '').varint(2, model.opsetVersion);
  return new ProtobufWriter()
    .varint(1, IR_VERSION)
    .string(2, model.producerName)
    .message(7, graph)
    .message(8, opset)
    .finish();
}

function encodeNode(n: OnnxNode): ProtobufWriter {
  const w = new ProtobufWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, value] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(name, value));
  return w;
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_FLOATS = 6, ATTR_INTS = 7;

function encodeAttribute(name: string, value: OnnxAttributeValue): ProtobufWriter {
  const w = new ProtobufWriter().string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`ONNX attribute ${name}: use { float } for non-integer ${value}`);
    return w.varint(3, value).varint(20, ATTR_INT);
  }
  if (typeof value === 'string') return w.string(4, value).varint(20, ATTR_STRING);
  if (Array.isArray(value)) {
    for (const v of value) w.varint(8, v);
    return w.varint(20, ATTR_INTS);
  }
  if ('float' in value) return w.float(2, value.float).varint(20, ATTR_FLOAT);
  for (const v of value.floats) w.float(7, v);
  return w.varint(20, ATTR_FLOATS);
}

function encodeTensor(t: OnnxTensor): ProtobufWriter {
  const w = new ProtobufWriter();
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, t.raw);
  return w;
}

function encodeValueInfo(v: OnnxValueInfo): ProtobufWriter {
  const tensorType = new ProtobufWriter().varint(1, v.elemType);
  if (v.shape) {
    const shape = new ProtobufWriter();
    for (const d of v.shape) {
      const dim = new ProtobufWriter();
      if (typeof d === 'number') dim.varint(1, d);
      else dim.string(2, d);
      shape.message(1, dim);
    }
    tensorType.message(2, shape);
  }
  const type = new ProtobufWriter().message(1, tensorType);
  return new ProtobufWriter().string(1, v.name).message(2, type);
}
