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

``W`` and ``b`` are properties: assigning a new array checks its shape, dtype
and values, so a wrong array fails where it is assigned, with a message,
instead of as a broadcasting error (or a silent change of dtype) later.
"""

from __future__ import annotations

import numpy as np

from .activations import Activation, get_activation

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _as_param(value, name: str, int_dtype=np.float64) -> np.ndarray:
    """``value`` as a finite float32/float64 array (integers become
    ``int_dtype``); an ndarray of a float dtype is kept as it is (no copy)."""
    arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    if arr.dtype not in _FLOATS:
        if arr.dtype.kind not in "biu":
            raise TypeError(f"{name} must hold real numbers (float32 or "
                            f"float64); got dtype {arr.dtype}")
        arr = arr.astype(int_dtype)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it holds NaN or inf")
    return arr


class Dense:
    """One layer of an MLP.

    ``forward`` caches ``X``, ``Z`` and ``A`` (all that ``backward`` needs);
    ``backward`` turns dE/dA into dE/dZ, stores ``dW`` and ``db`` and
    returns dE/dX. ``W`` (n_in, n_out) and ``b`` (n_out,) share one dtype,
    float32 or float64, which every array the layer computes keeps.
    """

    def __init__(self, W, b, activation: str | Activation = "identity"):
        W = _as_param(W, "W")
        if W.ndim != 2:
            raise ValueError(f"W must be 2-D (n_in, n_out); "
                             f"got shape {W.shape}")
        b = _as_param(b, "b", int_dtype=W.dtype)
        if b.shape != (W.shape[1],):
            raise ValueError(f"b must have shape ({W.shape[1]},) to match "
                             f"W {W.shape}; got {b.shape}")
        if b.dtype != W.dtype:
            raise TypeError(f"b must have the dtype of W ({W.dtype}); "
                            f"got {b.dtype}")
        self._W, self._b = W, b
        self.activation = (activation if isinstance(activation, Activation)
                           else get_activation(activation))
        self.X = self.Z = self.A = self.delta = None
        self.dW = self.db = None
        # where backward_delta writes dW and db: None, a new array each time;
        # an MLP gives each layer views of one flat gradient array
        self._dW_out = self._db_out = None

    # ------------------------------------------------------------ parameters
    def _checked(self, value, name: str, old: np.ndarray) -> np.ndarray:
        """A new value for parameter ``name``: same shape and dtype as the
        ``old`` one, finite."""
        if not isinstance(value, np.ndarray):       # a list, say
            value = np.asarray(value, dtype=old.dtype)
        arr = value
        if arr.shape != old.shape:
            raise ValueError(f"{name} must keep this layer's shape {old.shape}"
                             f"; got an array of shape {arr.shape}")
        if arr.dtype != old.dtype:
            raise TypeError(f"{name} must keep this layer's dtype {old.dtype}"
                            f" (else its gradients would change dtype); got "
                            f"{arr.dtype}: use .astype(np.{old.dtype})")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite; it holds NaN or inf")
        return arr

    @property
    def W(self) -> np.ndarray:
        """Weights (n_in, n_out). Assign an array of the same shape and
        dtype to replace them (or update them in place: ``W[...] = ...``)."""
        return self._W

    @W.setter
    def W(self, value):
        self._W = self._checked(value, "W", self._W)

    @property
    def b(self) -> np.ndarray:
        """Biases (n_out,); assignment is checked as for :attr:`W`."""
        return self._b

    @b.setter
    def b(self, value):
        self._b = self._checked(value, "b", self._b)

    @property
    def shape(self):
        return self.W.shape

    @property
    def dtype(self) -> np.dtype:
        return self.W.dtype

    # ---------------------------------------------------------------- passes
    def forward(self, X: np.ndarray) -> np.ndarray:
        """Z = X W + b (eq-forward-batch), A = f(Z).

        X: (N, n_in) -> A: (N, n_out)."""
        if X.ndim != 2 or X.shape[1] != self.W.shape[0]:
            raise ValueError(f"layer input must have shape "
                             f"(N, {self.W.shape[0]}); got {X.shape}")
        self.X = X
        self.Z = X @ self.W
        self.Z += self.b         # in place: one new array, not two
        self.A = self.activation.forward(self.Z)
        return self.A

    def backward(self, grad_A: np.ndarray) -> np.ndarray:
        """From dE/dA (N, n_out): delta = dE/dZ, then
        :meth:`backward_delta`."""
        if self.Z is None:
            raise RuntimeError("call forward before backward")
        delta = self.activation.backward(self.Z, self.A, grad_A)
        return self.backward_delta(delta)

    def backward_delta(self, delta: np.ndarray, grad_input: bool = True):
        """Given delta = dE/dZ (N, n_out), store dW, db; return dE/dX.

        dE/dW = X^T delta (eq-grad-W), dE/db = sum over rows of delta
        (eq-grad-b), dE/dX = delta W^T (N, n_in), the first factor of the
        hidden-layer recursion (eq-delta-hidden). ``grad_input=False`` skips
        dE/dX and returns None: for the first layer it is the gradient for
        the *data*, which training never uses, and for a wide input (784
        pixels) it costs as much as dW. ``out=None`` makes new arrays; in an
        MLP, dW and db are written into the network's gradient buffer.
        """
        if self.X is None:
            raise RuntimeError("call forward before backward")
        self.delta = delta
        self.dW = np.matmul(self.X.T, delta, out=self._dW_out)
        self.db = delta.sum(axis=0, out=self._db_out)
        if not grad_input:
            return None
        return delta @ self.W.T

    def _backward_params_only(self, delta: np.ndarray) -> None:
        """Store delta, dW and db only (what MLP needs for its first layer):
        :meth:`backward_delta` without dE/dX."""
        self.backward_delta(delta, grad_input=False)

    def __repr__(self):
        n_in, n_out = self.W.shape
        return (f"Dense({n_in} -> {n_out}, {self.activation.name}, "
                f"{self.W.dtype})")
