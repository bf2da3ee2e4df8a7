/**
 * Perceptual difficulty: the entropy of the eigen-spectrum of an image's patch features
 * (../shared/docs/durian-method.md, "Difficulty signals" 1; Li et al. 2026).
 *
 * F is P x d (P patches, d features). Centre the columns (subtract the mean patch), form either the
 * P x P Gram matrix Fc Fc^T or the d x d covariance Fc^T Fc, whichever is smaller (same non-zero
 * spectrum), take its eigenvalues l_k >= 0, p_k = l_k / sum l, H = -sum p_k ln p_k.
 * The 1/(P-1) factor cancels in p_k and is omitted. Low H = visually simple.
 */
import { DurianInputError, describeValue } from '../errors.js';
import { symmetricEigenvalues } from './eigen.js';

export interface SpectralEntropyOptions {
  /**
   * Eigenvalues below `relativeTolerance` x the largest are rounding noise of a rank-deficient matrix
   * and count as zero; a matrix whose total variance is below it relative to the features' scale is
   * constant (H = 0).
   */
  relativeTolerance?: number;
}

export interface SpectralEntropyResult {
  entropy: number;
  /** Normalised eigenvalues p_k, descending (the spectrum the UI can plot). */
  spectrum: Float64Array;
  /** Number of eigenvalues above tolerance. */
  rank: number;
  /** Which matrix was decomposed. */
  via: 'gram' | 'covariance';
}

/** Spectral entropy of a row-major P x d feature matrix. */
export function spectralEntropy(
  features: ArrayLike<number>,
  patches: number,
  dims: number,
  options: SpectralEntropyOptions = {},
): SpectralEntropyResult {
  if (!Number.isInteger(patches) || patches < 1) throw new DurianInputError('patches', `must be a whole number >= 1, got ${describeValue(patches)}`);
  if (!Number.isInteger(dims) || dims < 1) throw new DurianInputError('dims', `must be a whole number >= 1, got ${describeValue(dims)}`);
  if (features.length !== patches * dims) {
    throw new DurianInputError('features', `has ${features.length} values, expected patches x dims = ${patches} x ${dims} = ${patches * dims}`);
  }
  const tolerance = options.relativeTolerance ?? 1e-10;

  let scale = 0;
  const centred = new Float64Array(patches * dims);
  for (let j = 0; j < dims; j++) {
    let total = 0;
    for (let i = 0; i < patches; i++) {
      const value = features[i * dims + j];
      if (!Number.isFinite(value)) {
        throw new DurianInputError(`features[${i}][${j}]`, `must be a finite number, got ${describeValue(value)}`);
      }
      total += value;
      scale = Math.max(scale, Math.abs(value));
    }
    const columnMean = total / patches;
    for (let i = 0; i < patches; i++) centred[i * dims + j] = features[i * dims + j] - columnMean;
  }

  const via = patches <= dims ? 'gram' : 'covariance';
  const n = Math.min(patches, dims);
  if (patches < 2 || scale === 0) return { entropy: 0, spectrum: new Float64Array(0), rank: 0, via };
  // Normalise by the largest magnitude so huge or tiny features neither overflow nor underflow.
  for (let k = 0; k < centred.length; k++) centred[k] /= scale;

  const matrix = new Float64Array(n * n);
  if (via === 'gram') {
    for (let a = 0; a < patches; a++) {
      for (let b = a; b < patches; b++) {
        let dot = 0;
        for (let j = 0; j < dims; j++) dot += centred[a * dims + j] * centred[b * dims + j];
        matrix[a * n + b] = dot;
        matrix[b * n + a] = dot;
      }
    }
  } else {
    // Accumulate Fc^T Fc row by row (cache-friendly: each patch row is contiguous).
    for (let i = 0; i < patches; i++) {
      const row = i * dims;
      for (let a = 0; a < dims; a++) {
        const x = centred[row + a];
        if (x === 0) continue;
        const out = a * n;
        for (let b = a; b < dims; b++) matrix[out + b] += x * centred[row + b];
      }
    }
    for (let a = 0; a < dims; a++) for (let b = 0; b < a; b++) matrix[a * n + b] = matrix[b * n + a];
  }

  let trace = 0;
  for (let k = 0; k < n; k++) trace += matrix[k * n + k];
  // Total variance negligible against the features' own scale: a constant image up to rounding.
  if (trace <= tolerance * patches) return { entropy: 0, spectrum: new Float64Array(0), rank: 0, via };

  const eigenvalues = symmetricEigenvalues(matrix, n);
  const largest = eigenvalues[n - 1];
  let total = 0;
  let rank = 0;
  for (let k = 0; k < n; k++) {
    if (eigenvalues[k] > largest * tolerance) {
      total += eigenvalues[k];
      rank++;
    } else {
      eigenvalues[k] = 0;
    }
  }
  const spectrum = new Float64Array(rank);
  let entropy = 0;
  for (let k = n - 1, out = 0; k >= 0 && out < rank; k--) {
    const p = eigenvalues[k] / total;
    if (p > 0) {
      spectrum[out++] = p;
      entropy -= p * Math.log(p);
    }
  }
  return { entropy: Math.max(0, entropy), spectrum, rank, via };
}
