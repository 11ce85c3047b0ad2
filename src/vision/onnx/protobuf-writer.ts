/**
 * A minimal protobuf encoder: just the wire types the ONNX messages we emit need
 * (varint, 32-bit float, length-delimited). Fields are appended in call order.
 */
export class ProtobufWriter {
  private readonly parts: Uint8Array[] = [];
  private scratch: number[] = [];
  private length = 0;

  /** An int32/int64/enum/bool field (negative values take the 10-byte two's complement form). */
  varint(field: number, value: number | bigint | boolean): this {
    this.tag(field, 0);
    this.rawVarint(typeof value === 'boolean' ? BigInt(value ? 1 : 0) : BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.flushScratch();
    this.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.rawVarint(BigInt(value.byteLength));
    this.flushScratch();
    this.push(value);
    return this;
  }

  /** A nested message; its chunks are shared, not copied, until finish(). */
  message(field: number, inner: ProtobufWriter): this {
    inner.flushScratch();
    this.tag(field, 2);
    this.rawVarint(BigInt(inner.length));
    this.flushScratch();
    for (const p of inner.parts) this.push(p);
    return this;
  }

  finish(): Uint8Array {
    this.flushScratch();
    if (this.parts.length === 1) return this.parts[0];
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const p of this.parts) {
      out.set(p, offset);
      offset += p.byteLength;
    }
    this.parts.splice(0, this.parts.length, out);
    return out;
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(BigInt((field << 3) | wireType));
  }

  private rawVarint(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    while (u >= 0x80n) {
      this.scratch.push(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.scratch.push(Number(u));
  }

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.push(Uint8Array.from(this.scratch));
    this.scratch = [];
  }

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.byteLength;
  }
}
