import type { RgbImage } from '../vision/image.js';

export interface BufferedFrame {
  index: number;
  timeMs: number;
  cutBefore: boolean;
  image: RgbImage;
}

/** The last `capacity` decoded frames, so a boundary can be pinned down without decoding again. */
export class FrameRing {
  private readonly frames: (BufferedFrame | undefined)[];

  constructor(readonly capacity: number) {
    this.frames = new Array(capacity);
  }

  /** Stores a copy of the frame (the decoder may reuse its buffer), recycling the oldest slot's memory. */
  push(index: number, timeMs: number, cutBefore: boolean, width: number, height: number, data: Uint8Array): BufferedFrame {
    const slot = index % this.capacity;
    const old = this.frames[slot];
    const buf = old && old.image.data.length === data.length ? old.image.data : new Uint8Array(data.length);
    buf.set(data);
    const frame = { index, timeMs, cutBefore, image: { width, height, data: buf } };
    this.frames[slot] = frame;
    return frame;
  }

  get(index: number): BufferedFrame {
    const f = this.frames[index % this.capacity];
    if (!f || f.index !== index) throw new Error(`frame ${index} is no longer buffered`);
    return f;
  }

  has(index: number): boolean {
    return this.frames[index % this.capacity]?.index === index;
  }
}
