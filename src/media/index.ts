export { ffmpegPath, ffprobePath } from './binaries.ts';
export { sniffContainer, type ContainerFormat } from './container.ts';
export { probeVideo } from './probe.ts';
export { validateVideoFile, checkVideoInfo, DEFAULT_LIMITS, type VideoLimits } from './validate.ts';
export { decodeFrames, type DecodeOptions } from './decode.ts';
export { cutFaceImage, cropRect, type Box, type CutFaceImageOptions } from './face-image.ts';
export type { VideoInfo, DecodedFrame } from './types.ts';
