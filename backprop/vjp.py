"""Backward rules of array operations, as vector-Jacobian products (VJPs).

An operation ``y = f(x_1, ..., x_k)`` sits somewhere inside a computation whose
result is one number E. Its backward rule receives the upstream gradient
``G = dE/dy`` (an array of y's shape) and returns ``dE/dx_i`` for each input
(an array of x_i's shape). By the chain rule (eq-vjp-chain) that is

    dE/dx_j = sum_i G_i dy_i/dx_j,     i.e.  dE/dx = J^T G,

the vector-Jacobian product: the Jacobian J = dy/dx is never built. Each rule
below is written out and derived in the book's matrix-backprop chapter; its
docstring names the equation label. The rules are:

=========================  ===========================  ====================
forward                    rule                         label
=========================  ===========================  ====================
C = A @ B                  :func:`matmul_vjp`           eq-vjp-matmul
y = a + b (broadcasting)   :func:`add_vjp`              eq-vjp-broadcast
(bias: broadcast forward)  :func:`unbroadcast`          eq-vjp-broadcast
y = a * b (broadcasting)   :func:`mul_vjp`              eq-vjp-mul
y = exp, log, tanh, sigm.  :func:`exp_vjp`, ...         eq-vjp-elementwise
y = x.sum(axis)            :func:`sum_vjp`              eq-vjp-sum
y = x.mean(axis)           :func:`mean_vjp`             eq-vjp-sum
y = x.reshape(shape)       :func:`reshape_vjp`          eq-vjp-reshape
y = x.transpose(axes)      :func:`transpose_vjp`        eq-vjp-reshape
y = x[index]               :func:`getitem_vjp`          eq-vjp-getitem
y = softmax(x, axis)       :func:`softmax_vjp`          eq-vjp-softmax
y = logsumexp(x, axis)     :func:`logsumexp_vjp`        eq-vjp-logsumexp
y = x.max(axis)            :func:`max_vjp`              eq-vjp-max
y = relu(x)                :func:`relu_vjp`             eq-vjp-max
=========================  ===========================  ====================

A variable used twice receives the sum of the two gradients (eq-vjp-fanout);
that is the caller's job (an engine adds what each use sends back).

Arrays keep their floating dtype (float32 in, float32 out); integer input is
taken as float64. Every public function checks its arguments' types, shapes
and finiteness before it computes anything and raises ``TypeError`` or
``ValueError`` with what it expected. Some rules return views of ``G``
(:func:`unbroadcast` when nothing is summed, :func:`reshape_vjp`,
:func:`transpose_vjp`); copy before writing into the result.

:func:`check_vjp` compares any backward rule with central differences.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import as_float_array
from .gradcheck import numerical_gradient, relative_error

__all__ = [
    "unbroadcast", "matmul_vjp", "add_vjp", "mul_vjp", "sum_vjp", "mean_vjp",
    "reshape_vjp", "transpose_vjp", "getitem_vjp", "exp_vjp", "log_vjp",
    "tanh_vjp", "sigmoid_vjp", "relu_vjp", "max_vjp", "softmax",
    "softmax_vjp", "logsumexp", "logsumexp_vjp", "check_vjp",
]


# ------------------------------------------------------------- input checks
def _array(x, name: str) -> np.ndarray:
    """A finite real array; float32/float64 kept, anything else as float64."""
    arr = np.asarray(x)
    dtype = arr.dtype if arr.dtype in (np.float32, np.float64) else np.float64
    return as_float_array(arr, name, dtype=dtype)


def _shape(shape, name: str = "shape") -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints (an int n means (n,))."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError as err:
        raise TypeError(f"{name} must be a tuple of ints; "
                        f"got {shape!r}") from err
    for n in dims:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(
                f"{name} must be a tuple of non-negative ints; got {shape!r}")
        if n < 0:
            raise ValueError(
                f"{name} must be a tuple of non-negative ints; got {shape!r}")
    return tuple(int(n) for n in dims)


def _same_shape(G, x, what: str) -> None:
    if G.shape != x.shape:
        raise ValueError(f"G must have the shape of {what}, {x.shape}; "
                         f"got {G.shape}")


def _axes(axis, ndim: int) -> tuple[int, ...]:
    """The reduced axes as sorted non-negative ints (None: all of them)."""
    if axis is None:
        return tuple(range(ndim))
    items = (axis,) if isinstance(axis, (int, np.integer)) else axis
    try:
        items = tuple(items)
    except TypeError as err:
        raise TypeError(f"axis must be None, an int or a tuple of ints; "
                        f"got {axis!r}") from err
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"axis must hold ints; got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for {ndim}-D input")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis repeats an axis: {axis!r}")
    return tuple(sorted(out))


def _reduced(G, shape, axes, keepdims: bool) -> np.ndarray:
    """Check that G has the shape of a reduction of ``shape`` over ``axes``;
    return G with the reduced axes kept as length 1 (ready to broadcast)."""
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    expected = kept if keepdims else tuple(
        n for i, n in enumerate(shape) if i not in axes)
    if G.shape != expected:
        raise ValueError(f"G must have shape {expected} (the reduction of "
                         f"{shape} over axes {axes}, keepdims={keepdims}); "
                         f"got {G.shape}")
    return G.reshape(kept)


# ------------------------------------------------------------- the rules
def unbroadcast(G, shape):
    """Sum G over the axes broadcasting added or stretched (eq-vjp-broadcast).

    If ``x`` of ``shape`` was broadcast to ``G.shape`` in the forward pass
    (a bias b of shape (n,) added to every row of Z, shape (N, n)), then
    dE/dx is G summed over every axis where x was repeated: the leading
    axes broadcasting added, and the axes where x had length 1. Returns an
    array of ``shape``.
    """
    G = _array(G, "G")
    shape = _shape(shape)
    try:
        fits = np.broadcast_shapes(shape, G.shape) == G.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"shape {shape} does not broadcast to G's shape "
                         f"{G.shape}")
    lead = G.ndim - len(shape)
    out = G.sum(axis=tuple(range(lead))) if lead else G
    stretched = tuple(i for i, n in enumerate(shape)
                      if n == 1 and out.shape[i] != 1)
    return out.sum(axis=stretched, keepdims=True) if stretched else out


def matmul_vjp(G, A, B):
    """Backward rule of C = A @ B (eq-vjp-matmul): dA = G B^T, dB = A^T G.

    A: (..., n, k), B: (..., k, m), G = dE/dC: (..., n, m). Leading (batch)
    axes broadcast as in ``np.matmul``; a factor that was broadcast over a
    batch axis gets its gradient summed over it (eq-vjp-broadcast). Returns
    ``(dA, dB)`` with the shapes of A and B. Both factors need at least two
    axes: write a vector as a (1, k) or (k, 1) matrix.
    """
    G, A, B = _array(G, "G"), _array(A, "A"), _array(B, "B")
    if A.ndim < 2 or B.ndim < 2:
        raise ValueError(f"A and B must have at least 2 axes; got shapes "
                         f"{A.shape} and {B.shape}")
    if A.shape[-1] != B.shape[-2]:
        raise ValueError(f"A (..., n, k) and B (..., k, m) must share k; "
                         f"got {A.shape} and {B.shape}")
    try:
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError as err:
        raise ValueError(f"the batch axes of A {A.shape} and B {B.shape} "
                         f"do not broadcast") from err
    expected = batch + (A.shape[-2], B.shape[-1])
    if G.shape != expected:
        raise ValueError(f"G must have the shape of A @ B, {expected}; "
                         f"got {G.shape}")
    dA = G @ np.swapaxes(B, -1, -2)           # (..., n, m) @ (..., m, k)
    dB = np.swapaxes(A, -1, -2) @ G           # (..., k, n) @ (..., n, m)
    return unbroadcast(dA, A.shape), unbroadcast(dB, B.shape)


def add_vjp(G, a_shape, b_shape):
    """Backward rule of y = a + b with broadcasting (eq-vjp-broadcast).

    Addition passes G unchanged to both inputs ("add distributes"); an input
    that was broadcast gets G summed over the repeated axes. Returns
    ``(da, db)`` of shapes ``a_shape`` and ``b_shape``.
    """
    G = _array(G, "G")
    return unbroadcast(G, a_shape), unbroadcast(G, b_shape)


def mul_vjp(G, a, b):
    """Backward rule of y = a * b, element-wise (eq-vjp-mul).

    da = G * b and db = G * a ("multiply swaps"), each summed back to its
    input's shape if broadcasting stretched it. G has the broadcast shape
    of a and b. Returns ``(da, db)``.
    """
    G, a, b = _array(G, "G"), _array(a, "a"), _array(b, "b")
    try:
        out = np.broadcast_shapes(a.shape, b.shape)
    except ValueError as err:
        raise ValueError(f"a {a.shape} and b {b.shape} do not "
                         f"broadcast") from err
    if G.shape != out:
        raise ValueError(f"G must have the shape of a * b, {out}; "
                         f"got {G.shape}")
    return unbroadcast(G * b, a.shape), unbroadcast(G * a, b.shape)


def sum_vjp(G, shape, axis=None, keepdims=False):
    """Backward rule of y = x.sum(axis, keepdims) (eq-vjp-sum).

    Every summed entry of x moved y by the same amount, so each receives
    the G of its sum: G broadcast back over the summed axes. ``shape`` is
    x's shape; G has y's. Returns a new array of ``shape``.
    """
    G = _array(G, "G")
    shape = _shape(shape)
    g = _reduced(G, shape, _axes(axis, len(shape)), keepdims)
    return np.broadcast_to(g, shape).copy()


def mean_vjp(G, shape, axis=None, keepdims=False):
    """Backward rule of y = x.mean(axis, keepdims) (eq-vjp-sum).

    The sum's rule divided by the number of entries averaged. Returns a new
    array of ``shape`` (x's shape).
    """
    shape = _shape(shape)
    axes = _axes(axis, len(shape))
    count = math.prod(shape[i] for i in axes)
    if count == 0:
        raise ValueError(f"the mean over axes {axes} of shape {shape} "
                         f"averages no entries")
    return sum_vjp(G, shape, axis, keepdims) / count


def reshape_vjp(G, shape):
    """Backward rule of y = x.reshape(...) (eq-vjp-reshape): G.reshape(shape).

    A reshape moves no number, so the gradient is G laid out in x's
    ``shape``. Returns a view of G where NumPy can.
    """
    G = _array(G, "G")
    shape = _shape(shape)
    if math.prod(shape) != G.size:
        raise ValueError(f"G has {G.size} entries; shape {shape} holds "
                         f"{math.prod(shape)}")
    return G.reshape(shape)


def transpose_vjp(G, axes=None):
    """Backward rule of y = x.transpose(axes) (eq-vjp-reshape).

    Entry x[i] went to y[p(i)], so dE/dx = G transposed by the inverse
    permutation, ``np.argsort(axes)``. ``axes=None`` reverses the axes (and
    is its own inverse). Returns a view of G.
    """
    G = _array(G, "G")
    if axes is None:
        return G.transpose()
    axes = _shape(axes, "axes")
    if sorted(axes) != list(range(G.ndim)):
        raise ValueError(f"axes must be a permutation of 0..{G.ndim - 1}; "
                         f"got {axes}")
    return G.transpose(np.argsort(axes))


def getitem_vjp(G, shape, index):
    """Backward rule of y = x[index] (eq-vjp-getitem): scatter-add.

    The forward pass gathers; the backward pass adds each entry of G into
    the place of x it came from, with ``np.add.at`` so that an entry of x
    picked twice receives both contributions (``out[index] += G`` would
    keep only one). ``shape`` is x's shape. Returns a new array of it.
    """
    G = _array(G, "G")
    shape = _shape(shape)
    try:
        picked = np.empty(shape, dtype=np.int8)[index].shape
    except (IndexError, TypeError, ValueError) as err:
        raise ValueError(f"index {index!r} does not index an array of shape "
                         f"{shape}: {err}") from err
    if G.shape != picked:
        raise ValueError(f"G must have the shape of x[index], {picked}; "
                         f"got {G.shape}")
    out = np.zeros(shape, dtype=G.dtype)
    np.add.at(out, index, G)
    return out


def exp_vjp(G, y):
    """Backward rule of y = exp(x) (eq-vjp-elementwise): G * y.

    exp is its own derivative, so the rule reads the output y, not x.
    """
    G, y = _array(G, "G"), _array(y, "y")
    _same_shape(G, y, "y")
    return G * y


def log_vjp(G, x):
    """Backward rule of y = log(x) (eq-vjp-elementwise): G / x, for x > 0."""
    G, x = _array(G, "G"), _array(x, "x")
    _same_shape(G, x, "x")
    if np.any(x <= 0):
        raise ValueError("log needs x > 0; x holds values <= 0")
    return G / x


def tanh_vjp(G, y):
    """Backward rule of y = tanh(x) (eq-vjp-elementwise): G * (1 - y^2).

    The derivative 1 - tanh(x)^2 is written with the output y alone.
    """
    G, y = _array(G, "G"), _array(y, "y")
    _same_shape(G, y, "y")
    return G * (1 - y * y)


def sigmoid_vjp(G, y):
    """Backward rule of y = sigmoid(x) (eq-vjp-elementwise): G * y (1 - y).

    The derivative is written with the output y alone.
    """
    G, y = _array(G, "G"), _array(y, "y")
    _same_shape(G, y, "y")
    return G * y * (1 - y)


def relu_vjp(G, y):
    """Backward rule of y = max(x, 0) (eq-vjp-max): G * 1[y > 0].

    ReLU routes: G passes where the input was positive and stops elsewhere.
    Since y > 0 exactly where x > 0, the output y gives the mask (pass x
    instead: same result). At x = 0 the rule uses slope 0, as the package's
    ReLU does.
    """
    G, y = _array(G, "G"), _array(y, "y")
    _same_shape(G, y, "y (or x)")
    return G * (y > 0)


def max_vjp(G, x, axis=None, keepdims=False):
    """Backward rule of y = x.max(axis, keepdims) (eq-vjp-max): routing.

    G goes to the entry that was the maximum; the others get 0. Ties: the
    k entries equal to the maximum share G equally (G / k each). That keeps
    the total that flows back equal to G, treats tied entries alike, and is
    a valid subgradient; the maximum has no derivative at a tie, so no rule
    can match central differences there. x: the input; G: y's shape.
    """
    G, x = _array(G, "G"), _array(x, "x")
    axes = _axes(axis, x.ndim)
    g = _reduced(G, x.shape, axes, keepdims)
    mask = x == x.max(axis=axes, keepdims=True)
    return g * mask / mask.sum(axis=axes, keepdims=True)


def logsumexp(x, axis=-1, keepdims=False):
    """log sum exp(x) over ``axis``, without overflow (eq-vjp-logsumexp).

    Computed as m + log sum exp(x - m) with m the maximum, so every
    exponent is at most 0.
    """
    x = _array(x, "x")
    axes = _axes(axis, x.ndim)
    m = x.max(axis=axes, keepdims=True)
    out = m + np.log(np.exp(x - m).sum(axis=axes, keepdims=True))
    return out if keepdims else out.squeeze(axis=axes)


def softmax(x, axis=-1):
    """Softmax over ``axis``: exp(x - logsumexp(x)), which cannot overflow.

    The same function as :class:`backprop.activations.Softmax` (last axis)
    for any axis.
    """
    x = _array(x, "x")
    _axes(axis, x.ndim)
    return np.exp(x - logsumexp(x, axis=axis, keepdims=True))


def logsumexp_vjp(G, x, axis=-1, keepdims=False):
    """Backward rule of y = logsumexp(x, axis) (eq-vjp-logsumexp).

    d logsumexp(x) / dx_j = softmax(x)_j, so dE/dx = G * softmax(x),
    with G broadcast over ``axis``: a soft version of :func:`max_vjp`.
    """
    G, x = _array(G, "G"), _array(x, "x")
    g = _reduced(G, x.shape, _axes(axis, x.ndim), keepdims)
    return g * softmax(x, axis=axis)


def softmax_vjp(G, S, axis=-1):
    """Backward rule of S = softmax(x, axis) (eq-vjp-softmax).

    dE/dx = S * (G - sum(G * S, axis)): the Jacobian diag(s) - s s^T
    (eq-vjp-softmax-jacobian) applied to G without being built. S is the
    forward output, G = dE/dS; both of one shape.
    """
    G, S = _array(G, "G"), _array(S, "S")
    _same_shape(G, S, "S")
    _axes(axis, S.ndim)
    return S * (G - np.sum(G * S, axis=axis, keepdims=True))


# ------------------------------------------------------------- the checker
def check_vjp(forward, backward, inputs, rng, h=1e-4):
    """Relative errors (eq-rel-error) of a backward rule, one per input.

    ``forward(*inputs)`` returns y; ``backward(G, *inputs)`` returns the
    tuple of gradients (one per input, in order). The check draws G of y's
    shape from ``rng`` (a NumPy Generator), sets E = sum(G * y), so that
    dE/dy = G and dE/dx is exactly the VJP, and compares each returned
    gradient with central differences of E (the fourth-order stencil, step
    ``h``). Inputs are copied as float64 and never changed. A gradient of
    the wrong shape raises ``ValueError`` (eq-vjp-shape-rule).
    """
    if not (callable(forward) and callable(backward)):
        raise TypeError("forward and backward must be functions")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; "
                        f"got {type(rng).__name__}")
    if not h > 0:
        raise ValueError(f"step h must be positive; got {h}")
    xs = [np.array(_array(x, f"inputs[{i}]"), dtype=np.float64)
          for i, x in enumerate(inputs)]
    G = rng.standard_normal(np.shape(forward(*xs)))
    grads = backward(G, *xs)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(xs):
        raise ValueError(f"backward returned {len(grads)} gradients for "
                         f"{len(xs)} inputs")
    errors = []
    for i, (x, g) in enumerate(zip(xs, grads)):
        if np.shape(g) != x.shape:  # a gradient has its variable's shape
            raise ValueError(f"the gradient for inputs[{i}] has shape "
                             f"{np.shape(g)}; the input has {x.shape}")
        num = numerical_gradient(lambda: np.sum(G * forward(*xs)), x, h,
                                 order=4)
        errors.append(relative_error(g, num))
    return errors
