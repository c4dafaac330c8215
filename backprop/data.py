"""Data sets the book uses. Nothing is downloaded: XOR is written out, and the digits
ship inside scikit-learn (``sklearn.datasets.load_digits``, 1,797 images of 8x8 pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import SEED


def xor(dtype=np.float64):
    """The four XOR points. Returns X (4, 2) and Y (4, 1): Y = x1 XOR x2."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    Y = np.array([[0], [1], [1], [0]], dtype=dtype)
    return X, Y


@dataclass(frozen=True)
class Split:
    """A train/test split: X (N, n_features), y integer labels (N,)."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray  # per-feature mean of the raw training data
    std: np.ndarray   # per-feature std used to scale (1 where a pixel never varies)


def digits(test_size: float = 0.25, seed: int = SEED, dtype=np.float64) -> Split:
    """scikit-learn's 8x8 digits as a deterministic, stratified, standardized split.

    The mean and standard deviation are computed on the training part only and applied
    to both parts, so nothing about the test set leaks into training. Pixels that are
    constant in the training set keep a scale of 1.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1; got {test_size}")
    raw = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(
        raw.data, raw.target, test_size=test_size, random_state=seed, stratify=raw.target
    )
    mean = X_tr.mean(axis=0)
    std = X_tr.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return Split(((X_tr - mean) / std).astype(dtype), ((X_te - mean) / std).astype(dtype),
                 y_tr.astype(np.intp), y_te.astype(np.intp), mean, std)


def one_hot(labels, n_classes: int, dtype=np.float64) -> np.ndarray:
    """Integer labels (N,) -> one-hot rows (N, n_classes)."""
    from ._validate import check_labels

    labels = check_labels(labels, n_classes)
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out
