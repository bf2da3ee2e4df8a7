/**
 * The frozen vision encoder (onnxruntime-node): load once, encode images to patch features [N, P, d],
 * visual entropy per image, a feature cache keyed by image and encoder sha256, and a throughput benchmark.
 */
export { defaultEncoderPath, encodeImages, loadEncoder, type Encoder, type LoadEncoderOptions } from './encoder.js';
export { EncoderError } from './errors.js';
export { imagePixels, type EncoderImage } from './image.js';
export { metadataProblems, type EncoderMetadata, type EncoderInputSpec, type EncoderOutputSpec } from './metadata.js';
export { visualEntropy } from './visualEntropy.js';
export { imageKey, PatchFeatureCache, type CachedImageFeatures, type FeatureCacheOptions, type FeatureCacheStats } from './cache.js';
export { benchEncoder, type EncoderBenchResult } from './bench.js';
