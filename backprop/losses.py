"""Loss functions. Each returns ``(value, gradient)``.

All losses are means over the batch of N samples (rows); a sample's loss is
summed over its outputs. The gradient is taken with respect to the loss's first
argument and has its shape, so it already contains the factor 1/N.

===============================  ===================================
function                         value E and gradient
===============================  ===================================
``mse(y_hat, y)``                1/(2N) sum (y - y_hat)^2;
                                 (y_hat - y) / N
``binary_cross_entropy(p, y)``   -1/N sum y log p + (1-y) log(1-p);
                                 (p - y) / (p (1 - p)) / N
``bce_with_logits(z, y)``        the same with p = sigmoid(z);
                                 (sigmoid(z) - y) / N
``softmax_cross_entropy(z, y)``  -1/N sum y log softmax(z);
                                 (softmax(z) - y) / N
===============================  ===================================

The book derives each gradient with SymPy (eq-mse, eq-bce, eq-softmax-ce).

Each formula is written once. The public functions check their arguments and
hand them to a kernel (``_mse_unchecked``, ``_bce_with_logits_unchecked``,
``_softmax_cross_entropy_unchecked``) that holds the formula and checks
nothing. :class:`~backprop.network.MLP` calls the kernels directly: it has
checked Y itself, and it computed Z[L] and A[L] = f(Z[L]) from checked arrays
(and raises if they are not finite), so the kernels see only arrays that would
pass the public checks.
"""

from __future__ import annotations

import numpy as np

from ._validate import (PROB_ROW_ATOL, as_float_array, check_labels,
                        check_same_shape)
from .activations import ACTIVATIONS, sigmoid

#: row-wise softmax: the very function the output layer applies,
#: A[L] = softmax(Z[L])
_softmax = ACTIVATIONS["softmax"].forward


def _prepare(pred, target, pred_name, target_name):
    pred_arr = np.asarray(pred)
    dtype = (pred_arr.dtype if pred_arr.dtype in (np.float32, np.float64)
             else np.float64)
    pred_arr = as_float_array(pred, pred_name, ndim=2, dtype=dtype)
    target_arr = as_float_array(target, target_name, ndim=2, dtype=dtype)
    check_same_shape(pred_arr, target_arr, pred_name, target_name)
    if pred_arr.shape[0] == 0:
        raise ValueError(f"{pred_name} must hold at least one sample; "
                         f"got shape {pred_arr.shape}")
    return pred_arr, target_arr


def _check_unit_interval(arr, name):
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must lie in [0, 1]; got values from "
                         f"{arr.min()} to {arr.max()}")


def mse(y_hat, y):
    """Mean squared error E = 1/(2N) sum_n ||y_n - y_hat_n||^2 (eq-mse).

    y_hat, y: (N, K). Returns (E, dE/dy_hat) with dE/dy_hat = (y_hat - y)/N
    (eq-losses-mse-grad). The formula is in :func:`_mse_unchecked`.
    """
    y_hat, y = _prepare(y_hat, y, "y_hat", "y")
    return _mse_unchecked(y_hat, y)


def binary_cross_entropy(p, y):
    """Binary cross-entropy from probabilities p in [0, 1] (eq-bce).

    E = -1/N sum [y log p + (1 - y) log(1 - p)] over all N x K entries;
    dE/dp = (p - y) / (p (1 - p)) / N (eq-losses-bce-grad). p, y: (N, K),
    y in [0, 1]. A probability of exactly 0 or 1 on the wrong side gives an
    infinite loss, as the formula says; use :func:`bce_with_logits` when you
    have the logits z (p = sigmoid(z)), which never does.
    """
    p, y = _prepare(p, y, "p", "y")
    _check_unit_interval(p, "p")
    _check_unit_interval(y, "y")
    n = p.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (np.where(y > 0, y * np.log(p), 0)
                 + np.where(y < 1, (1 - y) * np.log1p(-p), 0))
        grad = (p - y) / (p * (1 - p)) / n
    return float(-np.sum(terms) / n), grad


def bce_with_logits(z, y):
    """Binary cross-entropy of p = sigmoid(z), computed stably from logits z.

    z, y: (N, K), y in [0, 1]. Returns (E, dE/dz) with
    dE/dz = (sigmoid(z) - y) / N (eq-delta-bce). The formula, which is finite
    for every finite z (eq-losses-bce-logits), is in
    :func:`_bce_with_logits_unchecked`.
    """
    z, y = _prepare(z, y, "z", "y")
    _check_unit_interval(y, "y")
    return _bce_with_logits_unchecked(z, sigmoid(z), y)


def log_softmax(z):
    """log softmax(z) row by row, via log-sum-exp (eq-losses-logsumexp):
    z - max - log sum exp(z - max)."""
    z = np.asarray(z)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax_cross_entropy(z, y):
    """Softmax cross-entropy from logits z (N, K) (eq-softmax-ce).

    y is either integer class labels of shape (N,) or target probabilities
    of shape (N, K) (one-hot rows, say). Returns (E, dE/dz) with
    dE/dz = (softmax(z) - y) / N (eq-delta-ce). The formula, which uses
    log-sum-exp so that logits of 1e4 give a finite value, is in
    :func:`_softmax_cross_entropy_unchecked`.
    """
    z_arr = np.asarray(z)
    dtype = (z_arr.dtype if z_arr.dtype in (np.float32, np.float64)
             else np.float64)
    z_arr = as_float_array(z, "z", ndim=2, dtype=dtype)
    n, k = z_arr.shape
    if n == 0:
        raise ValueError(f"z must hold at least one sample; "
                         f"got shape {z_arr.shape}")
    y = np.asarray(y)
    if y.ndim == 1:
        target = check_labels(y, k, "y")
        if target.shape[0] != n:
            raise ValueError(f"y has {target.shape[0]} labels "
                             f"but z has {n} rows")
    else:
        z_arr, target = _prepare(z_arr, y, "z", "y")
        _check_unit_interval(target, "y")
        atol = PROB_ROW_ATOL[np.dtype(dtype).type]
        if not np.allclose(target.sum(axis=1), 1, atol=atol):
            raise ValueError("each row of y must sum to 1 "
                             "(a probability distribution over classes)")
    return _softmax_cross_entropy_unchecked(z_arr, _softmax(z_arr), target)


# --------------------------------------------------------------------- kernels
# The formulas, without the checks: all arrays share one float dtype, which
# the results keep. Called by the public functions above (after their checks)
# and by MLP._output_loss, which passes the output layer's Z[L] and its
# cached A[L] = f(Z[L]), so sigmoid(z) and softmax(z) are not computed twice.

def _mse_unchecked(y_hat, y, with_value=True):
    """:func:`mse` on checked arrays: E = sum (y_hat - y)^2 / (2N),
    gradient (y_hat - y) / N. ``with_value=False`` returns (None, gradient),
    as do the other kernels: fit's steps need only the gradient."""
    n = y_hat.shape[0]
    diff = y_hat - y
    if not with_value:
        return None, diff / n
    return float(np.sum(diff * diff) / (2 * n)), diff / n


def _bce_with_logits_unchecked(z, a, y, with_value=True):
    """:func:`bce_with_logits` on checked arrays, with a = sigmoid(z) given:
    E = mean over samples of the sum of
    max(z, 0) - z y + log(1 + exp(-|z|)) (eq-losses-bce-logits),
    gradient (a - y) / N (eq-delta-bce)."""
    n = z.shape[0]
    if not with_value:
        return None, (a - y) / n
    per_element = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(np.sum(per_element) / n), (a - y) / n


def _softmax_cross_entropy_unchecked(z, a, y, with_value=True):
    """:func:`softmax_cross_entropy` on checked arrays, with a = softmax(z)
    given; y: labels (N,) or probability rows (N, K). Gradient (a - y) / N
    (eq-delta-ce)."""
    n = z.shape[0]
    if y.ndim == 2:
        grad = a - y
    else:                     # labels: only each row's true class counts
        rows = np.arange(n)
        grad = a.copy()
        grad[rows, y] -= 1    # a - one_hot(y)
    grad /= n
    if not with_value:
        return None, grad
    if y.ndim == 2:
        value = -np.sum(y * log_softmax(z)) / n
    else:
        a_true = a[rows, y]
        # log(a) is as accurate as log_softmax(z) while a is a normal number;
        # a probability that underflowed (a gap of ~87 between float32
        # logits) needs log_softmax, which never takes the log of 0
        if a_true.min() >= np.finfo(a.dtype).tiny:
            value = -np.sum(np.log(a_true)) / n
        else:
            value = -np.sum(log_softmax(z)[rows, y]) / n
    return float(value), grad


LOSSES = {
    "mse": mse,
    "bce": binary_cross_entropy,
    "cross_entropy": softmax_cross_entropy,
}
