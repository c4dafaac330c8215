"""A fully connected (dense) layer: Z = X W + b, A = f(Z).

Shapes, with N samples in the rows of a batch:

=====  ==================  =======================================
name   shape               meaning
=====  ==================  =======================================
X      (N, n_in)           the layer's input, A[l-1]
W      (n_in, n_out)       weights; W[i, j] joins input i to unit j
b      (n_out,)            biases
Z      (N, n_out)          pre-activations (eq-forward-batch)
A      (N, n_out)          activations f(Z)
delta  (N, n_out)          dE/dZ, the error signal
=====  ==================  =======================================
"""

from __future__ import annotations

import numpy as np

from .activations import Activation, get_activation


class Dense:
    """One layer of an MLP.

    ``forward`` caches ``X``, ``Z`` and ``A`` (all that ``backward`` needs);
    ``backward`` turns dE/dA into dE/dZ, stores ``dW`` and ``db`` and returns dE/dX.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, activation: str | Activation = "identity"):
        W = np.asarray(W)
        b = np.asarray(b)
        if W.ndim != 2:
            raise ValueError(f"W must be 2-D (n_in, n_out); got shape {W.shape}")
        if b.shape != (W.shape[1],):
            raise ValueError(f"b must have shape ({W.shape[1]},) to match W {W.shape}; got {b.shape}")
        self.W = W
        self.b = b
        self.activation = (
            activation if isinstance(activation, Activation) else get_activation(activation)
        )
        self.X = self.Z = self.A = self.delta = None
        self.dW = self.db = None

    @property
    def shape(self):
        return self.W.shape

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Z = X W + b (eq-forward-batch), A = f(Z). X: (N, n_in) -> A: (N, n_out)."""
        if X.ndim != 2 or X.shape[1] != self.W.shape[0]:
            raise ValueError(
                f"layer input must have shape (N, {self.W.shape[0]}); got {X.shape}"
            )
        self.X = X
        self.Z = X @ self.W + self.b
        self.A = self.activation.forward(self.Z)
        return self.A

    def backward(self, grad_A: np.ndarray) -> np.ndarray:
        """From dE/dA (N, n_out): delta = dE/dZ, then :meth:`backward_delta`."""
        if self.Z is None:
            raise RuntimeError("call forward before backward")
        delta = self.activation.backward(self.Z, self.A, grad_A)
        return self.backward_delta(delta)

    def backward_delta(self, delta: np.ndarray) -> np.ndarray:
        """Given delta = dE/dZ (N, n_out), store dW, db and return dE/dX (N, n_in).

        dE/dW = X^T delta (eq-grad-W), dE/db = sum over rows of delta (eq-grad-b),
        dE/dX = delta W^T, the first factor of the hidden-layer recursion (eq-delta-hidden).
        """
        if self.X is None:
            raise RuntimeError("call forward before backward")
        self.delta = delta
        self.dW = self.X.T @ delta
        self.db = delta.sum(axis=0)
        return delta @ self.W.T

    # Fast path (used by MLP for its first layer): the same as backward_delta without
    # dE/dX = delta W^T. That product is the gradient with respect to the *data*, which
    # training never uses, and for a wide input (784 pixels) it costs as much as dW.
    # backward_delta spells the same three lines out because the book shows it; a
    # subclass that changes how dW or db are computed must override both methods.
    def _backward_params_only(self, delta: np.ndarray) -> None:
        """Store delta, dW = X^T delta (eq-grad-W) and db (eq-grad-b); return nothing."""
        if self.X is None:
            raise RuntimeError("call forward before backward")
        self.delta = delta
        self.dW = self.X.T @ delta
        self.db = delta.sum(axis=0)

    def __repr__(self):
        n_in, n_out = self.W.shape
        return f"Dense({n_in} -> {n_out}, {self.activation.name}, {self.W.dtype})"
