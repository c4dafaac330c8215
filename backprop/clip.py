"""Gradient-norm clipping and per-layer gradient norms (the book's Part III).

* :func:`clip_grad_norm` rescales a list of gradients so that their *global*
  L2 norm (all entries of all arrays taken as one long vector) is at most
  ``max_norm``:

      g <- g * min(1, max_norm / ||g||_2)               (eq-vanishing-clip)

  The direction of the step is kept; only its length is capped. Pascanu,
  Mikolov and Bengio (2013) proposed it against exploding gradients.
* :func:`layer_grad_norms` reads the error signals delta[l] = dE/dZ[l] and
  the weight gradients dE/dW[l] that
  :meth:`backprop.network.MLP.loss_and_grads` left in the layers, and
  returns their Frobenius norms, layer by layer: the measurement behind the
  vanishing- and exploding-gradient figures.
"""

from __future__ import annotations

import numpy as np


def _check_grads(grads) -> list[np.ndarray]:
    if isinstance(grads, np.ndarray) or not isinstance(grads, (list, tuple)):
        raise TypeError(
            "grads must be a list or tuple of gradient arrays (like the one "
            f"net.loss_and_grads returns); got {type(grads).__name__}")
    if len(grads) == 0:
        raise ValueError("grads must hold at least one gradient array; "
                         "got an empty list")
    checked = []
    for i, g in enumerate(grads):
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            kind = (f"array of dtype {g.dtype}" if isinstance(g, np.ndarray)
                    else type(g).__name__)
            raise TypeError(
                f"grads[{i}] must be a floating NumPy array; got {kind}")
        if not np.all(np.isfinite(g)):
            raise ValueError(
                f"grads[{i}] holds NaN or inf; its norm is undefined, so it "
                "cannot be clipped (the step has already diverged)")
        checked.append(g)
    return checked


def global_norm(grads) -> float:
    """The L2 norm of all gradient entries together: sqrt(sum_k ||g_k||_F^2).

    grads: list of floating arrays of any shapes. Computed in float64, with
    each array rescaled by its largest entry first so that huge gradients
    (say 1e200) do not overflow when squared.
    """
    grads = _check_grads(grads)
    total = 0.0
    for g in grads:
        g64 = np.asarray(g, dtype=np.float64)
        m = float(np.max(np.abs(g64))) if g64.size else 0.0
        if m > 0:
            total = np.hypot(total, m * np.linalg.norm(g64 / m))
    return float(total)


def clip_grad_norm(grads, max_norm: float):
    """Scale all gradients together so their global L2 norm is <= max_norm.

    Implements g <- g * min(1, max_norm / ||g||_2) (eq-vanishing-clip), where
    ||g||_2 is :func:`global_norm`, the norm of all entries of all arrays as
    one vector.

    Parameters
    ----------
    grads : list or tuple of floating arrays
        Gradients of any shapes, e.g. [dW1 (n0, n1), db1 (n1,), ...].
        Not modified.
    max_norm : positive finite float
        The largest global norm allowed.

    Returns
    -------
    (clipped, total_norm) : (list of arrays, float)
        ``clipped`` holds **new** arrays of the same shapes and dtypes
        (copies even when nothing is clipped, so the inputs are never
        changed in place); ``total_norm`` is the global norm *before*
        clipping, handy for logging.
    """
    grads = _check_grads(grads)
    number = (int, float, np.integer, np.floating)
    if isinstance(max_norm, bool) or not isinstance(max_norm, number):
        raise TypeError("max_norm must be a positive number; "
                        f"got {type(max_norm).__name__}")
    if not (np.isfinite(max_norm) and max_norm > 0):
        raise ValueError("max_norm must be a positive finite number; "
                         f"got {max_norm!r}")
    total = global_norm(grads)
    scale = min(1.0, float(max_norm) / total) if total > 0 else 1.0
    if scale < 1.0:
        clipped = [(g * scale).astype(g.dtype, copy=False) for g in grads]
    else:
        clipped = [g.copy() for g in grads]
    return clipped, total


def layer_grad_norms(net) -> dict[str, np.ndarray]:
    """Per-layer norms of the error signals and weight gradients of ``net``.

    Call after ``net.loss_and_grads(X, Y)``. Returns ``{"delta": d, "dW": w}``
    where ``d[l-1] = ||delta[l]||_F`` (delta[l] = dE/dZ[l] of shape
    (N, n_l)) and ``w[l-1] = ||dE/dW[l]||_F`` (shape (n_{l-1}, n_l)), for
    l = 1..L; both float64 arrays of length L (eq-delta-hidden, eq-grad-W).

    Raises ``ValueError`` if the network holds no gradients yet,
    ``TypeError`` if ``net`` is not an MLP-like object with ``layers``.
    """
    layers = getattr(net, "layers", None)
    if not isinstance(layers, (list, tuple)) or not layers or not all(
            hasattr(layer, "delta") and hasattr(layer, "dW")
            for layer in layers):
        raise TypeError("net must be a backprop.MLP (with layers holding "
                        f"delta and dW); got {type(net).__name__}")
    if any(layer.delta is None or layer.dW is None for layer in layers):
        raise ValueError("the network holds no gradients yet: call "
                         "net.loss_and_grads(X, Y) before "
                         "layer_grad_norms(net)")

    def norm(a):
        return np.linalg.norm(np.asarray(a, dtype=np.float64))

    delta = np.array([norm(layer.delta) for layer in layers])
    dW = np.array([norm(layer.dW) for layer in layers])
    return {"delta": delta, "dW": dW}
