"""The multilayer perceptron: the book's public entry point.

>>> import numpy as np
>>> from backprop import MLP
>>> net = MLP([2, 4, 1], hidden="sigmoid", output="sigmoid", loss="bce", seed=0)
>>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])
>>> Y = np.array([[0.], [1.], [1.], [0.]])
>>> loss, grads = net.loss_and_grads(X, Y)
>>> [g.shape for g in grads]
[(2, 4), (4,), (4, 1), (1,)]

Backpropagation, as :meth:`MLP.loss_and_grads` runs it (equation labels from the book):

1. forward: Z[l] = A[l-1] W[l] + b[l], A[l] = f(Z[l]) for l = 1..L, A[0] = X (eq-forward-batch);
2. output error: delta[L] = dE/dZ[L] (eq-delta-out; (A[L] - Y)/N for sigmoid+bce and
   softmax+cross_entropy, eq-delta-bce and eq-delta-ce);
3. hidden errors: delta[l] = (delta[l+1] W[l+1]^T) * f'(Z[l]) (eq-delta-hidden);
4. gradients: dE/dW[l] = A[l-1]^T delta[l] (eq-grad-W), dE/db[l] = sum of rows of delta[l]
   (eq-grad-b).
"""

from __future__ import annotations

import numpy as np

from ._validate import PROB_ROW_ATOL, as_float_array, check_dtype, check_labels, check_name
from .init import init_weights, resolve_init
from .layers import Dense
from .losses import (_bce_with_logits_unchecked, _mse_unchecked,
                     _softmax_cross_entropy_unchecked, bce_with_logits, mse,
                     softmax_cross_entropy)

HIDDEN = ("identity", "sigmoid", "tanh", "relu")
OUTPUTS = ("identity", "sigmoid", "softmax")
LOSSES = ("mse", "bce", "cross_entropy")
#: the output activation each loss needs (None: any output works)
LOSS_NEEDS_OUTPUT = {"mse": None, "bce": "sigmoid", "cross_entropy": "softmax"}


def _check_sizes(sizes) -> list[int]:
    try:
        sizes = list(sizes)
    except TypeError as err:
        raise TypeError(f"sizes must be a list of layer widths like [2, 4, 1]; got {sizes!r}") from err
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width; got {sizes}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"layer sizes must be integers; got {sizes}")
        if s < 1:
            raise ValueError(f"layer sizes must be at least 1; got {sizes}")
    return [int(s) for s in sizes]


def check_architecture(sizes, hidden, output, loss):
    """Check an MLP's widths, activation names, loss name and that the loss fits the
    output; return ``(sizes as a list of int, hidden, output, loss)``. Shared by
    :class:`MLP` and :func:`backprop.symbolic.symbolic_mlp`."""
    sizes = _check_sizes(sizes)
    check_name(hidden, HIDDEN, "hidden activation")
    check_name(output, OUTPUTS, "output activation")
    check_name(loss, LOSSES, "loss")
    needed = LOSS_NEEDS_OUTPUT[loss]
    if needed is not None and output != needed:
        raise ValueError(f'loss="{loss}" needs output="{needed}"; got output="{output}"')
    return sizes, hidden, output, loss


def param_names(n_layers: int) -> list[str]:
    """["W1", "b1", ..., "WL", "bL"] for a network of ``n_layers`` layers."""
    return [f"{p}{l}" for l in range(1, n_layers + 1) for p in ("W", "b")]


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
        Weight initialization (see :mod:`backprop.init`); biases start at zero.

    Attributes
    ----------
    layers : list of :class:`~backprop.layers.Dense`
    params : list [W1, b1, ..., WL, bL] of the live parameter arrays,
        W[l] of shape (n_{l-1}, n_l) and b[l] of shape (n_l,).
    """

    def __init__(self, sizes, hidden="sigmoid", output="identity", loss="mse",
                 seed=0, dtype=np.float64, init="auto"):
        self.sizes, self.hidden, self.output, self.loss_name = check_architecture(
            sizes, hidden, output, loss)
        self.dtype = check_dtype(dtype)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an integer; got {seed!r}")
        self.init = resolve_init(init, hidden)
        rng = np.random.default_rng(seed)
        self.layers = []
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            W = init_weights(n_in, n_out, self.init, rng, self.dtype)
            b = np.zeros(n_out, dtype=self.dtype)
            act = output if l == len(self.sizes) - 1 else hidden
            self.layers.append(Dense(W, b, act))

    # ------------------------------------------------------------------ parameters
    @property
    def params(self) -> list[np.ndarray]:
        """[W1, b1, ..., WL, bL]: the live arrays (updating them updates the network)."""
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    @property
    def param_names(self) -> list[str]:
        """["W1", "b1", ..., "WL", "bL"], aligned with :attr:`params`."""
        return param_names(len(self.layers))

    @property
    def n_params(self) -> int:
        return sum(p.size for p in self.params)

    # ------------------------------------------------------------------ checks
    def _check_X(self, X) -> np.ndarray:
        X = as_float_array(X, "X", ndim=2, dtype=self.dtype)
        if X.shape[1] != self.sizes[0]:
            raise ValueError(
                f"X must have shape (N, {self.sizes[0]}) for this network; got {X.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError("X must hold at least one sample (row); got 0 rows")
        return X

    def _check_Y(self, Y, n: int) -> np.ndarray:
        n_out = self.sizes[-1]
        Y_arr = np.asarray(Y)
        if self.loss_name == "cross_entropy" and Y_arr.ndim == 1:
            labels = check_labels(Y_arr, n_out, "Y (class labels)")
            if labels.shape[0] != n:
                raise ValueError(f"X has {n} samples but Y has {labels.shape[0]} labels")
            return labels
        Y_arr = as_float_array(Y, "Y", dtype=self.dtype)
        if Y_arr.shape != (n, n_out):
            hint = ""
            if Y_arr.ndim == 1:
                hint = (" (use Y.reshape(-1, 1) for one output per sample)" if n_out == 1 else
                        " (for class labels of shape (N,), use loss='cross_entropy')")
            raise ValueError(f"Y must have shape ({n}, {n_out}) to match X and the output layer; "
                             f"got {Y_arr.shape}{hint}")
        if self.loss_name in ("bce", "cross_entropy") and np.any((Y_arr < 0) | (Y_arr > 1)):
            raise ValueError(f"targets for loss='{self.loss_name}' must lie in [0, 1]; "
                             f"got values from {Y_arr.min()} to {Y_arr.max()}")
        # the tolerance softmax_cross_entropy applies (MLP calls its unchecked kernel)
        atol = PROB_ROW_ATOL[self.dtype.type]
        if self.loss_name == "cross_entropy" and not np.allclose(Y_arr.sum(axis=1), 1, atol=atol):
            raise ValueError("each row of Y must sum to 1 for loss='cross_entropy' (one-hot or probabilities)")
        return Y_arr

    # ------------------------------------------------------------------ passes
    def _forward(self, X: np.ndarray) -> np.ndarray:
        A = X
        for layer in self.layers:
            A = layer.forward(A)
        return A

    def forward(self, X) -> np.ndarray:
        """Output activations A[L] (N, n_L) for inputs X (N, n_0) (eq-forward-batch)."""
        return self._forward(self._check_X(X))

    def _output_loss(self, Y):
        """Loss value and delta[L] = dE/dZ[L] from the cached forward pass (eq-delta-out)."""
        last = self.layers[-1]
        if self.loss_name == "bce":             # sigmoid output: eq-delta-bce
            return bce_with_logits(last.Z, Y)
        if self.loss_name == "cross_entropy":   # softmax output: eq-delta-ce
            return softmax_cross_entropy(last.Z, Y)
        value, grad_A = mse(last.A, Y)
        return value, last.activation.backward(last.Z, last.A, grad_A)

    # Fast path: the same as _output_loss, through the losses' unchecked kernels. Y was
    # checked by _check_Y and Z[L] was computed from checked arrays, so the public loss
    # functions' scans of both arrays would find nothing on a healthy run. If the value
    # is not finite (diverged weights), the checked version runs instead, so the error
    # (or the result) is exactly the public functions'.
    def _output_loss_fast(self, Y):
        last = self.layers[-1]
        if self.loss_name == "bce":
            value, delta = _bce_with_logits_unchecked(last.Z, last.A, Y)
        elif self.loss_name == "cross_entropy":
            value, delta = _softmax_cross_entropy_unchecked(last.Z, last.A, Y)
        else:
            value, grad_A = _mse_unchecked(last.A, Y)
            delta = last.activation.backward(last.Z, last.A, grad_A)
        if not np.isfinite(value):
            return self._output_loss(Y)
        return value, delta

    def loss(self, X, Y) -> float:
        """The loss E (a mean over the N samples) for inputs X and targets Y."""
        X = self._check_X(X)
        Y = self._check_Y(Y, X.shape[0])
        self._forward(X)
        return self._output_loss(Y)[0]

    def loss_and_grads(self, X, Y):
        """Loss and its gradient with respect to every parameter, by backpropagation.

        X: (N, n_0). Y: (N, n_L) targets, or integer labels (N,) for ``cross_entropy``.
        Returns ``(E, grads)`` with ``grads`` aligned with :attr:`params`. After the call
        each layer holds its error signal ``layer.delta`` = dE/dZ[l] (N, n_l).
        """
        X = self._check_X(X)
        Y = self._check_Y(Y, X.shape[0])
        self._forward(X)
        value, delta = self._output_loss(Y)
        for i in range(len(self.layers) - 1, 0, -1):
            layer, prev = self.layers[i], self.layers[i - 1]
            grad_A_prev = layer.backward_delta(delta)   # dW, db; delta W^T
            delta = prev.activation.backward(prev.Z, prev.A, grad_A_prev)  # eq-delta-hidden
        # layer 1: dW and db only; its dE/dX, the gradient for the data, is never needed
        self.layers[0]._backward_params_only(delta)
        grads = [g for layer in self.layers for g in (layer.dW, layer.db)]
        return value, grads

    # Fast path: loss_and_grads for arrays already checked by _check_X and _check_Y.
    # fit checks the whole training set once and calls this for every mini-batch (a
    # slice of checked arrays needs no new check); the output layer's loss goes through
    # the unchecked kernels (_output_loss_fast). Same loop, same results.
    def _loss_and_grads(self, X: np.ndarray, Y: np.ndarray):
        self._forward(X)
        value, delta = self._output_loss_fast(Y)
        for i in range(len(self.layers) - 1, 0, -1):
            layer, prev = self.layers[i], self.layers[i - 1]
            grad_A_prev = layer.backward_delta(delta)
            delta = prev.activation.backward(prev.Z, prev.A, grad_A_prev)
        self.layers[0]._backward_params_only(delta)
        grads = [g for layer in self.layers for g in (layer.dW, layer.db)]
        return value, grads

    @property
    def deltas(self) -> list[np.ndarray]:
        """[delta[1], ..., delta[L]] from the last :meth:`loss_and_grads` call."""
        return [layer.delta for layer in self.layers]

    # ------------------------------------------------------------------ predictions
    def predict(self, X) -> np.ndarray:
        """Class labels (N,) for softmax or one-output sigmoid networks; A[L] otherwise."""
        A = self.forward(X)
        if self.output == "softmax":
            return A.argmax(axis=1)
        if self.output == "sigmoid":
            labels = (A >= 0.5).astype(np.intp)
            return labels[:, 0] if A.shape[1] == 1 else labels
        return A

    def __repr__(self):
        return (f"MLP({self.sizes}, hidden={self.hidden!r}, output={self.output!r}, "
                f"loss={self.loss_name!r}, init={self.init!r}, dtype={self.dtype.name})")
