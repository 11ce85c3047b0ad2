/** Reading a tfjs graph model's JSON: nodes, their attributes, and which outputs `execute` returns by default. */

export interface TfjsAttrValue {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { s?: string[]; i?: (string | number)[]; f?: number[] };
  shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean };
  tensor?: unknown;
}

export interface TfjsNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfjsAttrValue>;
}

export function graphNodes(modelTopology: unknown): TfjsNodeDef[] {
  const nodes = (modelTopology as { node?: unknown } | null)?.node;
  if (!Array.isArray(nodes)) throw new Error('tfjs model: modelTopology.node is not a list (is this a graph model?)');
  const library = (modelTopology as { library?: { function?: unknown[] } }).library;
  if (library?.function?.length) throw new Error('tfjs model: graphs with functions (control flow) are not supported');
  return nodes as TfjsNodeDef[];
}

/** "name", "name:0" → "name"; other output indices are refused (every supported op has one output). */
export function producerOf(tensorName: string): string {
  const parts = tensorName.split(':');
  if (parts.length === 1) return tensorName;
  const index = Number(parts[parts.length - 1]);
  if (parts.length !== 2 || index !== 0) throw new Error(`tfjs model: tensor ${tensorName} is not output 0 of its node (multi-output ops are not supported)`);
  return parts[0];
}

/** Data inputs of a node (control dependencies "^x" carry no value). */
export function dataInputs(node: TfjsNodeDef): string[] {
  return (node.input ?? []).filter((i) => !i.startsWith('^'));
}

/**
 * What tfjs-converter's GraphModel (loaded without a signature) returns when `execute` gets no output
 * names: every node no other node consumes, in graph order.
 */
export function defaultOutputs(nodes: readonly TfjsNodeDef[]): { name: string; tensor: string }[] {
  const consumed = new Set(nodes.flatMap((n) => (n.input ?? []).map((i) => (i.startsWith('^') ? i.slice(1) : i).split(':')[0])));
  return nodes.filter((n) => !consumed.has(n.name)).map((n) => ({ name: n.name, tensor: n.name }));
}

export class TfjsAttrs {
  constructor(private readonly node: TfjsNodeDef) {}

  has(key: string): boolean {
    return this.node.attr?.[key] !== undefined;
  }

  string(key: string, fallback?: string): string {
    const v = this.node.attr?.[key]?.s;
    if (v === undefined) return this.required(key, fallback);
    return Buffer.from(v, 'base64').toString('utf8');
  }

  strings(key: string): string[] {
    return (this.node.attr?.[key]?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
  }

  ints(key: string, fallback?: number[]): number[] {
    const list = this.node.attr?.[key]?.list;
    if (list === undefined) return this.required(key, fallback);
    return (list.i ?? []).map(Number);
  }

  int(key: string, fallback?: number): number {
    const v = this.node.attr?.[key]?.i;
    return v === undefined ? this.required(key, fallback) : Number(v);
  }

  float(key: string, fallback?: number): number {
    const v = this.node.attr?.[key]?.f;
    return v === undefined ? this.required(key, fallback) : Number(v);
  }

  bool(key: string, fallback = false): boolean {
    return this.node.attr?.[key]?.b ?? fallback;
  }

  type(key: string): string | undefined {
    return this.node.attr?.[key]?.type;
  }

  keys(): string[] {
    return Object.keys(this.node.attr ?? {});
  }

  private required<T>(key: string, fallback: T | undefined): T {
    if (fallback === undefined) throw new Error(`tfjs model: ${this.node.op} node ${this.node.name} lacks attribute ${key}`);
    return fallback;
  }
}
