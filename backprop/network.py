"""The multilayer perceptron: the book's public entry point.

>>> import numpy as np
>>> from backprop import MLP
>>> net = MLP([2, 4, 1], hidden="sigmoid", output="sigmoid", loss="bce")
>>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
>>> Y = np.array([[0.], [1.], [1.], [0.]])
>>> loss, grads = net.loss_and_grads(X, Y)
>>> [g.shape for g in grads]
[(2, 4), (4,), (4, 1), (1,)]

Backpropagation, as :meth:`MLP._backprop` runs it for
:meth:`MLP.loss_and_grads` and for :func:`backprop.training.fit` (equation
labels from the book):

1. forward: Z[l] = A[l-1] W[l] + b[l], A[l] = f(Z[l]) for l = 1..L,
   A[0] = X (eq-forward-batch);
2. output error: delta[L] = dE/dZ[L] (eq-delta-out; (A[L] - Y)/N for
   sigmoid+bce and softmax+cross_entropy, eq-delta-bce and eq-delta-ce);
3. hidden errors: delta[l] = (delta[l+1] W[l+1]^T) * f'(Z[l])
   (eq-delta-hidden);
4. gradients: dE/dW[l] = A[l-1]^T delta[l] (eq-grad-W), dE/db[l] = sum of
   rows of delta[l] (eq-grad-b).

A result that is not finite (weights that diverged to NaN, or finite inputs
so large that a product overflows) raises a ValueError that names the layer,
before NumPy warns about anything.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import (PROB_ROW_ATOL, as_float_array, check_dtype,
                        check_labels, check_name)
from .init import init_weights, resolve_init
from .layers import Dense
from .losses import (_bce_with_logits_unchecked, _mse_unchecked,
                     _softmax_cross_entropy_unchecked)

HIDDEN = ("identity", "sigmoid", "tanh", "relu")
OUTPUTS = ("identity", "sigmoid", "softmax")
LOSSES = ("mse", "bce", "cross_entropy")
#: the output activation each loss needs (None: any output works)
LOSS_NEEDS_OUTPUT = {"mse": None, "bce": "sigmoid", "cross_entropy": "softmax"}


def _check_sizes(sizes) -> list[int]:
    try:
        sizes = list(sizes)
    except TypeError as err:
        raise TypeError(f"sizes must be a list of layer widths like "
                        f"[2, 4, 1]; got {sizes!r}") from err
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output "
                         f"width; got {sizes}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"layer sizes must be integers; got {sizes}")
        if s < 1:
            raise ValueError(f"layer sizes must be at least 1; got {sizes}")
    return [int(s) for s in sizes]


def check_architecture(sizes, hidden, output, loss):
    """Check an MLP's widths, activation names, loss name and that the loss
    fits the output; return ``(sizes as a list of int, hidden, output,
    loss)``. Shared by :class:`MLP` and
    :func:`backprop.symbolic.symbolic_mlp`."""
    sizes = _check_sizes(sizes)
    check_name(hidden, HIDDEN, "hidden activation")
    check_name(output, OUTPUTS, "output activation")
    check_name(loss, LOSSES, "loss")
    needed = LOSS_NEEDS_OUTPUT[loss]
    if needed is not None and output != needed:
        raise ValueError(f'loss="{loss}" needs output="{needed}"; '
                         f'got output="{output}"')
    return sizes, hidden, output, loss


def param_names(n_layers: int) -> list[str]:
    """["W1", "b1", ..., "WL", "bL"] for a network of ``n_layers`` layers."""
    return [f"{p}{l}" for l in range(1, n_layers + 1) for p in ("W", "b")]


class _FiniteOrError:
    """The context manager of :meth:`MLP._finite_or_error`: NumPy's overflow,
    invalid-value and divide-by-zero errors raise (no RuntimeWarning), and
    the FloatingPointError becomes a ValueError saying which layer failed.
    (A class is faster than contextlib.contextmanager.)"""

    __slots__ = ("net", "X", "Y", "errstate")

    def __init__(self, net, X, Y):
        self.net, self.X, self.Y = net, X, Y
        self.errstate = np.errstate(over="raise", invalid="raise",
                                    divide="raise")

    def __enter__(self):
        self.errstate.__enter__()

    def __exit__(self, kind, err, traceback):
        self.errstate.__exit__(kind, err, traceback)
        if kind is not None and issubclass(kind, FloatingPointError):
            raise self.net._not_finite(self.X, self.Y) from err
        return False


def _largest(arr) -> str:
    """The largest magnitude in ``arr``, for error messages."""
    with np.errstate(all="ignore"):
        return f"{float(np.max(np.abs(arr))):.3g}"


class MLP:
    """A fully connected network trained by backpropagation.

    Parameters
    ----------
    sizes : list of int
        Widths [n_0, n_1, ..., n_L]: n_0 inputs, L layers, n_L outputs.
    hidden : {"sigmoid", "tanh", "relu", "identity"}
        Activation of layers 1..L-1.
    output : {"identity", "sigmoid", "softmax"}
        Activation of layer L.
    loss : {"mse", "bce", "cross_entropy"}
        ``mse`` works with any output; ``bce`` needs ``output="sigmoid"`` and
        ``cross_entropy`` needs ``output="softmax"``.
    seed : int
        Seed of the generator that draws the initial weights.
    dtype : np.float64 (default) or np.float32
        Dtype of the parameters and of every computation.
    init : {"auto", "normal", "xavier", "he"}
        Weight initialization (see :mod:`backprop.init`); biases start at 0.

    Attributes
    ----------
    layers : list of :class:`~backprop.layers.Dense`
    params : tuple (W1, b1, ..., WL, bL) of the live parameter arrays,
        W[l] of shape (n_{l-1}, n_l) and b[l] of shape (n_l,).
    """

    def __init__(self, sizes, hidden="sigmoid", output="identity",
                 loss="mse", seed=0, dtype=np.float64, init="auto"):
        self.sizes, self.hidden, self.output, self.loss_name = (
            check_architecture(sizes, hidden, output, loss))
        self.dtype = check_dtype(dtype)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an integer; got {seed!r}")
        self.init = resolve_init(init, hidden)
        rng = np.random.default_rng(seed)
        self.layers = []
        widths = list(zip(self.sizes[:-1], self.sizes[1:]))
        # W1, b1, ..., WL, bL are views of one flat array, end to end, and
        # so are the gradients the backward pass writes (dW1, db1, ...), so
        # that Adam's update in fit (optim._adam_updater) reads all
        # gradients and updates all parameters in one operation each
        n_params = sum((n_in + 1) * n_out for n_in, n_out in widths)
        flat = np.zeros(n_params, dtype=self.dtype)
        self._grad = np.zeros(n_params, dtype=self.dtype)
        start = 0
        for l, (n_in, n_out) in enumerate(widths, start=1):
            W_end, b_end = start + n_in * n_out, start + (n_in + 1) * n_out
            W = flat[start:W_end].reshape(n_in, n_out)
            W[...] = init_weights(n_in, n_out, self.init, rng, self.dtype)
            act = output if l == len(self.sizes) - 1 else hidden
            layer = Dense(W, flat[W_end:b_end], act)
            layer._dW_out = self._grad[start:W_end].reshape(n_in, n_out)
            layer._db_out = self._grad[W_end:b_end]
            self.layers.append(layer)
            start = b_end
        # (dW1, db1, ..., dWL, dbL): the arrays _backprop writes into
        self._grad_views = tuple(a for layer in self.layers
                                 for a in (layer._dW_out, layer._db_out))

    # ------------------------------------------------------------ parameters
    @property
    def params(self) -> tuple[np.ndarray, ...]:
        """(W1, b1, ..., WL, bL): the live arrays, in a tuple.

        Updating an array in place (``net.params[0][...] = new``) updates
        the network; to replace one, assign ``net.layers[0].W = new``, which
        checks its shape and dtype.
        """
        return tuple(p for layer in self.layers for p in (layer.W, layer.b))

    @property
    def param_names(self) -> list[str]:
        """["W1", "b1", ..., "WL", "bL"], aligned with :attr:`params`."""
        return param_names(len(self.layers))

    @property
    def n_params(self) -> int:
        return sum(p.size for p in self.params)

    # ---------------------------------------------------------------- checks
    def _check_X(self, X) -> np.ndarray:
        X = as_float_array(X, "X", ndim=2, dtype=self.dtype)
        if X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (N, {self.sizes[0]}) for "
                             f"this network; got {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("X must hold at least one sample (row); "
                             "got 0 rows")
        return X

    def _check_Y(self, Y, n: int) -> np.ndarray:
        n_out = self.sizes[-1]
        Y_arr = np.asarray(Y)
        if self.loss_name == "cross_entropy" and Y_arr.ndim == 1:
            labels = check_labels(Y_arr, n_out, "Y (class labels)")
            if labels.shape[0] != n:
                raise ValueError(f"X has {n} samples but Y has "
                                 f"{labels.shape[0]} labels")
            return labels
        Y_arr = as_float_array(Y, "Y", dtype=self.dtype)
        if Y_arr.shape != (n, n_out):
            hint = ""
            if Y_arr.ndim == 1:
                hint = (" (use Y.reshape(-1, 1) for one output per sample)"
                        if n_out == 1 else " (for class labels of shape "
                        "(N,), use loss='cross_entropy')")
            raise ValueError(f"Y must have shape ({n}, {n_out}) to match X "
                             f"and the output layer; got {Y_arr.shape}{hint}")
        if self.loss_name in ("bce", "cross_entropy") and np.any(
                (Y_arr < 0) | (Y_arr > 1)):
            raise ValueError(f"targets for loss='{self.loss_name}' must lie "
                             f"in [0, 1]; got values from {Y_arr.min()} to "
                             f"{Y_arr.max()}")
        # the tolerance of softmax_cross_entropy, whose kernel MLP calls
        atol = PROB_ROW_ATOL[self.dtype.type]
        if self.loss_name == "cross_entropy" and not np.allclose(
                Y_arr.sum(axis=1), 1, atol=atol):
            raise ValueError("each row of Y must sum to 1 for "
                             "loss='cross_entropy' (one-hot or probabilities)")
        return Y_arr

    def _finite_or_error(self, X, Y=None):
        """A ``with`` block in which NumPy raises on overflow and invalid
        values instead of warning; :meth:`_not_finite` explains them."""
        return _FiniteOrError(self, X, Y)

    def _not_finite(self, X, Y=None) -> ValueError:
        """Why a pass on the checked X (and Y) gave NaN or inf: a ValueError
        that names the layer (it reruns the forward pass to find it)."""
        L, dtype = len(self.layers), self.dtype
        bad = [str(l) for l, layer in enumerate(self.layers, start=1)
               if not (np.all(np.isfinite(layer.W))
                       and np.all(np.isfinite(layer.b)))]
        if bad:
            which = f"layer{'s' if len(bad) > 1 else ''} {', '.join(bad)}"
            return ValueError(
                f"the network's output A[{L}] is not finite (NaN or inf): "
                f"the parameters of {which} hold NaN or inf; the weights "
                f"have diverged (lower the learning rate)")
        big = f"in {dtype}, whose largest value is {np.finfo(dtype).max:.3g}"
        A = X
        with np.errstate(all="ignore"):
            for l, layer in enumerate(self.layers, start=1):
                A_prev, A = A, layer.forward(A)
                if not np.all(np.isfinite(layer.Z)):
                    return ValueError(
                        f"Z[{l}] = A[{l - 1}] W[{l}] + b[{l}] is not finite "
                        f"(NaN or inf): layer {l} overflowed ({big}) with "
                        f"finite inputs and weights (largest |A[{l - 1}]| = "
                        f"{_largest(A_prev)}, largest |W[{l}]| = "
                        f"{_largest(layer.W)}); scale the inputs down "
                        f"(standardize X) or lower the learning rate")
                if not np.all(np.isfinite(A)):
                    return ValueError(
                        f"A[{l}] = f(Z[{l}]) is not finite (NaN or inf): "
                        f"layer {l}'s {layer.activation.name} overflowed "
                        f"({big}; largest |Z[{l}]| = {_largest(layer.Z)}); "
                        f"scale the inputs down or lower the learning rate")
            if Y is not None and not math.isfinite(self._output_loss(Y)[0]):
                return ValueError(
                    f"the loss is not finite (NaN or inf): it overflowed "
                    f"({big}) although the output A[{L}] is finite (largest "
                    f"|A[{L}]| = {_largest(A)}); scale the inputs (and "
                    f"targets) down")
        return ValueError(
            f"a gradient is not finite (NaN or inf): the backward pass or the "
            f"optimizer's update overflowed ({big}; largest |X| = "
            f"{_largest(X)}); scale the inputs down or lower the learning "
            f"rate")

    # ---------------------------------------------------------------- passes
    def _forward(self, X: np.ndarray) -> np.ndarray:
        A = X
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def forward(self, X) -> np.ndarray:
        """Output activations A[L] (N, n_L) for inputs X (N, n_0)
        (eq-forward-batch)."""
        X = self._check_X(X)
        with self._finite_or_error(X):
            A = self._forward(X)
        if not np.all(np.isfinite(A)):     # NaN weights: NumPy is silent
            raise self._not_finite(X)
        return A

    def _output_loss(self, Y, with_value=True):
        """Loss value and delta[L] = dE/dZ[L] from the cached forward pass
        (eq-delta-out). Y was checked by _check_Y, so the losses' kernels
        (the formulas without the checks) get it with Z[L] and A[L].
        ``with_value=False``: (None, delta[L]), the loss value skipped."""
        last = self.layers[-1]
        if self.loss_name == "bce":             # sigmoid output: eq-delta-bce
            return _bce_with_logits_unchecked(last.Z, last.A, Y, with_value)
        if self.loss_name == "cross_entropy":   # softmax output: eq-delta-ce
            return _softmax_cross_entropy_unchecked(last.Z, last.A, Y,
                                                    with_value)
        value, grad_A = _mse_unchecked(last.A, Y, with_value)
        return value, last.activation.backward(last.Z, last.A, grad_A)

    def _forward_loss(self, X, Y, with_value=True):
        """The forward pass, then E (if ``with_value``) and delta[L], for
        checked X and Y."""
        self._forward(X)
        value, delta = self._output_loss(Y, with_value)
        # NaN weights: NumPy is silent, but E is NaN, and so is delta[L]
        # (and delta . delta, which is finite where delta[L] is)
        if not math.isfinite(value if with_value else np.vdot(delta, delta)):
            raise self._not_finite(X, Y)
        return value, delta

    def loss(self, X, Y) -> float:
        """The loss E (a mean over the N samples) for inputs X, targets Y."""
        X = self._check_X(X)
        Y = self._check_Y(Y, X.shape[0])
        with self._finite_or_error(X, Y):
            return self._forward_loss(X, Y)[0]

    def loss_and_grads(self, X, Y):
        """Loss and its gradient for every parameter, by backpropagation.

        X: (N, n_0). Y: (N, n_L) targets, or integer labels (N,) for
        ``cross_entropy``. Returns ``(E, grads)`` with ``grads`` aligned with
        :attr:`params`. After the call each layer holds its error signal
        ``layer.delta`` = dE/dZ[l] (N, n_l).
        """
        X = self._check_X(X)
        Y = self._check_Y(Y, X.shape[0])
        with self._finite_or_error(X, Y):    # NaN or overflow: ValueError
            value, grads = self._backprop(X, Y, with_value=True)
        # copies: the next pass writes into the same gradient arrays
        return value, [g.copy() for g in grads]

    def _backprop(self, X, Y, with_value=False):
        """The forward and backward pass for checked X and Y (checked by
        loss_and_grads, or once for all mini-batches by fit). The gradients
        it returns are the layers' dW and db, which the next pass
        overwrites; the loss value only ``with_value`` (fit needs none)."""
        value, delta = self._forward_loss(X, Y, with_value)
        for i in range(len(self.layers) - 1, 0, -1):
            layer, prev = self.layers[i], self.layers[i - 1]
            grad_A_prev = layer.backward_delta(delta)  # dW, db; delta W^T
            # times f'(Z) of the layer below: eq-delta-hidden
            delta = prev.activation.backward(prev.Z, prev.A, grad_A_prev)
        # layer 1: dW and db only; its dE/dX, the gradient for the data,
        # is never needed
        self.layers[0]._backward_params_only(delta)
        grads = [g for layer in self.layers for g in (layer.dW, layer.db)]
        return value, grads

    @property
    def deltas(self) -> list[np.ndarray]:
        """[delta[1], ..., delta[L]] from the last :meth:`loss_and_grads`."""
        return [layer.delta for layer in self.layers]

    # ----------------------------------------------------------- predictions
    def predict(self, X) -> np.ndarray:
        """Class labels (N,) for softmax or one-output sigmoid networks;
        A[L] otherwise."""
        A = self.forward(X)
        if self.output == "softmax":
            return A.argmax(axis=1)
        if self.output == "sigmoid":
            labels = (A >= 0.5).astype(np.intp)
            return labels[:, 0] if A.shape[1] == 1 else labels
        return A

    def __repr__(self):
        return (f"MLP({self.sizes}, hidden={self.hidden!r}, "
                f"output={self.output!r}, loss={self.loss_name!r}, "
                f"init={self.init!r}, dtype={self.dtype.name})")
