"""Input checks shared by the public entry points.

Every public function that takes arrays from a user calls these *before* it
computes anything, so bad input fails with a message that names what was
expected and what was given, instead of a NumPy traceback from deep inside
(or, worse, a silent wrong answer).
"""

from __future__ import annotations

import numpy as np

SUPPORTED_DTYPES = (np.float32, np.float64)

#: how far a row of target probabilities may sum from 1 (cross-entropy),
#: per dtype
PROB_ROW_ATOL = {np.float64: 1e-6, np.float32: 1e-4}


def check_dtype(dtype) -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise
    ``TypeError``."""
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be np.float32 or np.float64; "
                        f"got {dtype!r}") from err
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be np.float32 or np.float64; got {dt}")
    return dt


def as_float_array(x, name: str, ndim: int | None = None,
                   dtype=np.float64) -> np.ndarray:
    """Convert ``x`` to a finite floating array of ``dtype``.

    Accepts real numbers of any integer or floating dtype (and booleans).
    Rejects complex, string and object arrays with ``TypeError``; wrong
    ``ndim``, NaN and inf with ``ValueError``.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (an integer or floating dtype); "
            f"got dtype {arr.dtype}"
        )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array; got shape {arr.shape} "
            f"({arr.ndim}-D)"
        )
    # a value too large for dtype becomes inf, which is reported below
    with np.errstate(over="ignore"):
        arr = arr.astype(dtype, copy=False)
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; it holds {bad} NaN or inf "
                         f"value(s) (as {np.dtype(dtype).name}, whose largest "
                         f"value is {np.finfo(dtype).max:.3g})")
    return arr


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str,
                     name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape; "
            f"got {a.shape} and {b.shape}"
        )


def check_labels(y, n_classes: int, name: str = "labels") -> np.ndarray:
    """Check integer class labels of shape (N,) in ``range(n_classes)``."""
    arr = np.asarray(y)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers; got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must have shape (N,); got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"{name} must lie in 0..{n_classes - 1}; got values from "
            f"{arr.min()} to {arr.max()}"
        )
    return arr.astype(np.intp, copy=False)


def check_name(name, choices, what: str) -> str:
    """Check that ``name`` is one of ``choices`` (strings)."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a string, one of "
                        f"{sorted(choices)}; got {name!r}")
    if name not in choices:
        raise ValueError(f"unknown {what} {name!r}; expected one of "
                         f"{sorted(choices)}")
    return name
