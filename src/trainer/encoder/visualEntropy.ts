/**
 * Perceptual difficulty of one image from its encoder patch features: the spectral entropy of the
 * P x d feature matrix (../../../shared/docs/durian-method.md, "Difficulty signals" 1).
 */
import { spectralEntropy, type SpectralEntropyResult } from '../../core/difficulty/spectralEntropy.js';
import { EncoderError } from './errors.js';

/**
 * Visual entropy of image `index` in a batch of features laid out [N, P, d] (as `encodeImages` returns).
 * Defaults: the designed encoder's P = 64, d = 32.
 */
export function visualEntropy(features: Float32Array, index: number, patches = 64, dims = 32): number {
  return visualSpectrum(features, index, patches, dims).entropy;
}

/** Entropy plus the normalised spectrum (for plots) of image `index`. */
function visualSpectrum(features: Float32Array, index: number, patches = 64, dims = 32): SpectralEntropyResult {
  const size = patches * dims;
  if (!Number.isInteger(index) || index < 0 || (index + 1) * size > features.length) {
    throw new EncoderError(`visualEntropy: image ${index} is out of range for ${features.length} features of ${patches} x ${dims} per image (${Math.floor(features.length / size)} images)`);
  }
  return spectralEntropy(features.subarray(index * size, (index + 1) * size), patches, dims);
}
