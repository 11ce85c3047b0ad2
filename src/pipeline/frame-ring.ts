import { LazyRgbImage } from '../vision/image.js';

export interface BufferedFrame {
  index: number;
  timeMs: number;
  cutBefore: boolean;
  width: number;
  height: number;
  /** The frame as decoded: planar yuv420p. */
  yuv: Uint8Array;
  release?: () => void;
}

/**
 * The last `capacity` decoded frames (kept as yuv420p, half the size of RGB), so a boundary can
 * be pinned down without decoding again. RGB is made on demand for the frames that are analysed.
 */
export class FrameRing {
  private readonly frames: (BufferedFrame | undefined)[];
  private readonly rgbCache: { index: number; image: LazyRgbImage }[] = [];

  constructor(readonly capacity: number) {
    this.frames = new Array(capacity);
  }

  /**
   * Keeps the frame, buffer and all (the decoder gives every frame a buffer of its own). The frame
   * it pushes out is released (its buffer goes back to the decoder), so nothing may hold on to a
   * frame's pixels longer than the ring does.
   */
  push(index: number, timeMs: number, cutBefore: boolean, width: number, height: number, yuv: Uint8Array, release?: () => void): BufferedFrame {
    const slot = index % this.capacity;
    const old = this.frames[slot];
    if (old) {
      const cached = this.rgbCache.findIndex((c) => c.index === old.index);
      if (cached >= 0) this.rgbCache.splice(cached, 1);
      old.release?.();
    }
    const frame = { index, timeMs, cutBefore, width, height, yuv, release };
    this.frames[slot] = frame;
    return frame;
  }

  get(index: number): BufferedFrame {
    const f = this.frames[index % this.capacity];
    if (!f || f.index !== index) throw new Error(`frame ${index} is no longer buffered`);
    return f;
  }

  /** The frame in RGB, converted where it is read (`ready`); the last few are kept, as a frame is often looked at twice. */
  rgb(index: number): LazyRgbImage {
    const hit = this.rgbCache.find((c) => c.index === index);
    if (hit) return hit.image;
    const f = this.get(index);
    const reuse = this.rgbCache.length >= 4 ? this.rgbCache.shift()!.image.data : undefined;
    const image = new LazyRgbImage(f.yuv, f.width, f.height, reuse);
    this.rgbCache.push({ index, image });
    return image;
  }

  has(index: number): boolean {
    return this.frames[index % this.capacity]?.index === index;
  }
}
