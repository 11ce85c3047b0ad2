/** One output of a model run. */
export interface ModelOutput {
  data: Float32Array;
  dims: readonly number[];
}

/** A face model behind one small seam: float32 NHWC input in, its outputs out. */
export interface ModelRunner {
  run(input: Float32Array, dims: readonly number[]): Promise<ModelOutput[]>;
}
