"""Numerical gradients by central differences, and how to compare them.

The central difference

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)        (eq-central-diff)

has truncation error O(h^2) (the forward difference (f(x + h e_i) - f(x)) / h
has O(h)), and round-off error about eps * |f| / h, so h = 1e-6 is a good
choice in float64. It costs two evaluations of f per entry of x: fine for
checking, hopeless for training.

The fourth-order central difference (``order=4``)

    df/dx_i ~ (-f(x + 2h e_i) + 8 f(x + h e_i)
               - 8 f(x - h e_i) + f(x - 2h e_i)) / (12h)

has truncation error O(h^4), so it allows a larger h (1e-4) and thus less
round-off. The tests use it as the more accurate reference where a gradient is
tiny compared with the loss (deep sigmoid networks), which is exactly where
round-off dominates.
"""


from __future__ import annotations

import numpy as np

#: for each order, pairs (k, c): the difference adds
#: c * (f(x + k h) - f(x - k h)) / h. Subtracting symmetric values first makes
#: the result exactly 0 where f is flat.
_STENCILS = {
    2: ((1, 1 / 2),),
    4: ((1, 8 / 12), (2, -1 / 12)),
}


def numerical_gradient(f, x: np.ndarray, h: float = 1e-6,
                       order: int = 2) -> np.ndarray:
    """Central-difference gradient of a scalar ``f()`` w.r.t. the array ``x``.

    ``f`` takes no arguments and reads ``x``, which is perturbed in place, one
    entry at a time, and restored exactly afterwards (also if ``f`` raises).
    ``order`` is 2 (eq-central-diff, the default) or 4 (the five-point
    stencil in the module doc). Returns a float64 array of ``x``'s shape.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        got = type(x).__name__
        if isinstance(x, np.ndarray):
            got += f" of dtype {x.dtype}"
        raise TypeError("x must be a floating NumPy array (perturbed in "
                        f"place); got {got}")
    if not h > 0:
        raise ValueError(f"step h must be positive; got {h}")
    if order not in _STENCILS:
        raise ValueError(f"order must be 2 or 4; got {order!r}")
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writing to it writes to x
    if not np.shares_memory(flat, x):
        raise ValueError(
            "x must be contiguous so it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        total = 0.0
        try:
            for k, c in _STENCILS[order]:
                flat[i] = old + k * h
                f_plus = float(f())
                flat[i] = old - k * h
                f_minus = float(f())
                total += c * (f_plus - f_minus)
        finally:
            flat[i] = old
        grad.reshape(-1)[i] = total / h
    return grad


def relative_error(a, b, floor: float = 1e-12) -> float:
    """Relative error between two arrays (eq-rel-error):

        ||a - b||_2 / max(||a||_2 + ||b||_2, floor)

    It is 0 for equal arrays, at most 1, scale-free, and symmetric in a and
    b. The floor only matters when both gradients are (nearly) zero, where any
    relative measure is meaningless; then it reports the absolute difference
    over ``floor``.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("a and b must have the same shape; "
                         f"got {a.shape} and {b.shape}")
    denom = max(np.linalg.norm(a) + np.linalg.norm(b), floor)
    return float(np.linalg.norm(a - b) / denom)


def check_gradients(net, X, Y, h: float | None = None,
                    order: int = 2) -> dict[str, float]:
    """Compare backprop's gradients of ``net`` with central differences.

    Returns ``{"W1": err, "b1": err, ...}``: for each parameter array, the
    relative error (eq-rel-error) between the analytic and the numerical
    gradient (central differences of the given ``order`` and step ``h``).
    Parameters are left exactly as they were. The default ``h`` is 1e-6 for a
    float64 network and 3e-3 for float32 (about eps^(1/3) of each dtype, where
    central differences are most accurate); even then a float32 check is only
    good to about 1e-4, not float64's 1e-8.

    ``net`` needs ``loss(X, Y)``, ``loss_and_grads(X, Y)``, ``params``,
    ``param_names`` and ``dtype``: an :class:`~backprop.MLP`, or any object
    that offers the same five.
    """
    if h is None:
        h = 3e-3 if net.dtype == np.float32 else 1e-6
    _, grads = net.loss_and_grads(X, Y)
    grads = [g.copy() for g in grads]
    report = {}
    for name, p, g in zip(net.param_names, net.params, grads):
        num = numerical_gradient(lambda: net.loss(X, Y), p, h, order)
        report[name] = relative_error(g, num)
    return report
