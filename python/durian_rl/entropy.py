"""Perceptual difficulty: the entropy of the eigen-spectrum of an image's patch features
(src/core/difficulty/spectralEntropy.ts; spec "Difficulty signals" 1), for computing `visual_entropy` with your
own vision encoder (e.g. the policy's) before training.

F is P x d (P patches, d features). Centre the columns (subtract the mean patch), take the eigenvalues of the
smaller of the P x P Gram matrix and the d x d covariance (same non-zero spectrum), p_k = l_k / sum l,
H = -sum p_k ln p_k. Eigenvalues below `relative_tolerance` x the largest count as zero; a constant image has H = 0.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DurianInputError


def spectral_entropy(features: Any, relative_tolerance: float = 1e-10) -> float:
    """Spectral entropy of one image's P x d patch features (numpy array, torch tensor or nested lists)."""
    if hasattr(features, "detach"):
        features = features.detach().cpu().double().numpy()
    matrix = np.asarray(features, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] < 1 or matrix.shape[1] < 1:
        raise DurianInputError("features", f"must be a P x d matrix with P, d >= 1, got shape {matrix.shape}")
    bad = np.argwhere(~np.isfinite(matrix))
    if len(bad):
        i, j = bad[0]
        raise DurianInputError(f"features[{i}][{j}]", f"must be a finite number, got {matrix[i, j]}")
    patches, dims = matrix.shape
    scale = float(np.abs(matrix).max())
    if patches < 2 or scale == 0:
        return 0.0
    # Normalise by the largest magnitude so huge or tiny features neither overflow nor underflow.
    centred = (matrix - matrix.mean(axis=0)) / scale
    small = centred @ centred.T if patches <= dims else centred.T @ centred
    if np.trace(small) <= relative_tolerance * patches:
        return 0.0
    eigenvalues = np.linalg.eigvalsh(small)
    kept = eigenvalues[eigenvalues > eigenvalues[-1] * relative_tolerance]
    p = kept / kept.sum()
    return max(0.0, float(-(p * np.log(p)).sum()))
