/**
 * Encoder benchmark (issue "Perceptual difficulty"): the default frozen encoder end to end on 224 x 224 RGB
 * inputs (resize -> onnxruntime-node -> spectral entropy), and entropy scoring alone. Target: >= 200 images/s.
 */
import { benchEncoder } from '../../trainer/encoder/index.js';
import type { BenchSuite } from './types.js';

export const encoderSuite: BenchSuite = {
  name: 'encoder',
  description: 'default ONNX encoder, 224 x 224 inputs, images/s end to end and entropy/s',
  async run() {
    const result = await benchEncoder({ images: 256, size: 224 });
    return [
      { suite: 'encoder', name: 'encode + entropy, 224 x 224 RGB', value: result.imagesPerSecond, unit: 'images/s', target: '>= 200 images/s', pass: result.imagesPerSecond >= 200 },
      { suite: 'encoder', name: 'spectral entropy of 64 x 32 patch features', value: result.entropyPerSecond, unit: 'images/s' },
    ];
  },
};
