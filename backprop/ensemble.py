"""Many small networks trained at once: K independent MLPs, stacked weights.

A study over 100 seeds and 16 settings would train 1,600 tiny networks one
after the other; for XOR each step is a handful of 4 x 4 products, so
Python's overhead, not the arithmetic, sets the time. :class:`Ensemble`
stacks the K networks' parameters,

=======  ====================  ============================================
name     shape                 meaning
=======  ====================  ============================================
W[l]     (K, n_{l-1}, n_l)     W[l][k] is network k's weight matrix
b[l]     (K, n_l)              b[l][k] is network k's bias
X        (N, n_0)              one batch shared by all K networks
Z[l]     (K, N, n_l)           Z[l][k] = A[l-1][k] W[l][k] + b[l][k]
delta    (K, N, n_l)           dE_k/dZ[l] for each network's own loss E_k
=======  ====================  ============================================

and runs the same forward pass (eq-forward-batch) and backward pass
(eq-delta-out, eq-delta-hidden, eq-grad-W, eq-grad-b) as
:class:`~backprop.network.MLP`, with ``np.matmul`` doing K products per
call. The networks never interact: network k follows exactly the trajectory
that ``MLP`` + :class:`~backprop.optim.SGD` would give it
(``tests/test_ensemble.py`` checks this to 1e-12).
"""

from __future__ import annotations

import numpy as np

from .activations import get_activation
from .losses import log_softmax
from .network import MLP


class Ensemble:
    """K networks of one architecture, trained together by full-batch
    gradient descent.

    Build it from MLPs (``Ensemble(nets)``) or from seeds
    (``Ensemble.from_seeds(sizes, seeds, hidden=..., output=..., loss=...,
    init=...)``); either way member k starts from exactly the weights of
    ``nets[k]``.
    """

    def __init__(self, nets):
        nets = list(nets)
        if not nets or not all(isinstance(n, MLP) for n in nets):
            got = [type(n).__name__ for n in nets] or "an empty list"
            raise TypeError(f"Ensemble needs a non-empty list of "
                            f"backprop.MLP networks; got {got}")
        first = nets[0]
        spec = (first.sizes, first.hidden, first.output, first.loss_name,
                first.dtype)
        for i, net in enumerate(nets):
            other = (net.sizes, net.hidden, net.output, net.loss_name,
                     net.dtype)
            if other != spec:
                raise ValueError(f"all networks must share sizes, "
                                 f"activations, loss and dtype; network 0 "
                                 f"has {spec}, network {i} has {other}")
        self.sizes, self.hidden, self.output, self.loss_name, self.dtype = spec
        self.init = first.init
        # its input checks are the ensemble's (no second copy)
        self._template = first
        self.K = len(nets)
        #: [W1, b1, ..., WL, bL], each with a leading axis of length K
        #: (copies, not views)
        self.params = [np.stack([net.params[i] for net in nets])
                       for i in range(len(first.params))]
        n_layers = len(self.sizes) - 1
        self.activations = ([get_activation(self.hidden)] * (n_layers - 1)
                            + [get_activation(self.output)])

    @classmethod
    def from_seeds(cls, sizes, seeds, **kwargs) -> "Ensemble":
        """One member per seed: member k starts as
        ``MLP(sizes, seed=seeds[k], **kwargs)``."""
        return cls([MLP(sizes, seed=int(s), **kwargs) for s in seeds])

    def member(self, k: int) -> MLP:
        """Network k as a stand-alone :class:`MLP` holding a copy of its
        current parameters."""
        if (isinstance(k, bool) or not isinstance(k, (int, np.integer))
                or not 0 <= k < self.K):
            raise ValueError(f"k must be an integer in 0..{self.K - 1}; "
                             f"got {k!r}")
        net = MLP(self.sizes, self.hidden, self.output, self.loss_name,
                  dtype=self.dtype, init=self.init)
        for p, stacked in zip(net.params, self.params):
            p[...] = stacked[k]
        return net

    # ---------------------------------------------------------------- checks
    def _check_XY(self, X, Y):
        """X and Y checked exactly as ``MLP`` checks them; labels become
        one-hot rows."""
        X = self._template._check_X(X)
        if Y is None:
            return X, None
        Y = self._template._check_Y(Y, X.shape[0])
        if Y.ndim == 1:                       # cross_entropy class labels
            Y = np.eye(self.sizes[-1], dtype=self.dtype)[Y]
        return X, Y

    # ---------------------------------------------------------------- passes
    def _forward(self, X):
        self.A = [X]                          # A[0] = X, shared: (N, n_0)
        self.Z = [None]
        for l, act in enumerate(self.activations):
            W, b = self.params[2 * l], self.params[2 * l + 1]
            # (K, N, n_l), eq-forward-batch
            Z = np.matmul(self.A[-1], W) + b[:, None, :]
            self.Z.append(Z)
            self.A.append(act.forward(Z))
        return self.A[-1]

    def forward(self, X) -> np.ndarray:
        """Outputs A[L] of every member, shape (K, N, n_L), for a shared
        batch X (N, n_0)."""
        X, _ = self._check_XY(X, None)
        return self._forward(X)

    def _output_loss(self, Y):
        """Per-member losses E (K,) and delta[L] (K, N, n_L), as MLP
        computes them."""
        Z, A, n = self.Z[-1], self.A[-1], Y.shape[0]
        if self.loss_name == "bce":      # eq-bce, eq-delta-bce; A = sigmoid(Z)
            per = np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))
            return per.sum(axis=(1, 2)) / n, (A - Y) / n
        if self.loss_name == "cross_entropy":   # eq-softmax-ce, eq-delta-ce
            return -(Y * log_softmax(Z)).sum(axis=(1, 2)) / n, (A - Y) / n
        diff = A - Y                            # eq-mse, eq-delta-out
        value = (diff * diff).sum(axis=(1, 2)) / (2 * n)
        return value, self.activations[-1].backward(Z, A, diff / n)

    def loss_and_grads(self, X, Y):
        """Losses (K,) and gradients aligned with :attr:`params` (each with
        a leading K axis).

        X: (N, n_0) and Y: (N, n_L) (or labels (N,) for ``cross_entropy``),
        shared by all members. The backward pass is eq-delta-hidden,
        eq-grad-W and eq-grad-b, batched.
        """
        X, Y = self._check_XY(X, Y)
        return self._loss_and_grads(X, Y)

    def _loss_and_grads(self, X, Y):
        self._forward(X)
        losses, delta = self._output_loss(Y)
        grads = [None] * len(self.params)
        for l in range(len(self.activations) - 1, -1, -1):
            A_prev = self.A[l]
            A_prev_T = np.swapaxes(A_prev, -1, -2)
            grads[2 * l] = np.matmul(A_prev_T, delta)        # eq-grad-W
            grads[2 * l + 1] = delta.sum(axis=1)             # eq-grad-b
            if l > 0:
                W_T = np.swapaxes(self.params[2 * l], -1, -2)
                grad_A = np.matmul(delta, W_T)
                # eq-delta-hidden
                delta = self.activations[l - 1].backward(self.Z[l], A_prev,
                                                         grad_A)
        return losses, grads

    # -------------------------------------------------------------- training
    def train(self, X, Y, lr, epochs: int) -> np.ndarray:
        """Full-batch gradient descent, w <- w - lr g (eq-sgd), for
        ``epochs`` steps.

        ``lr`` is one positive number or one per member, shape (K,). Returns
        the loss history, shape (epochs, K): row e holds each member's loss
        on (X, Y) after e + 1 steps, as :func:`backprop.training.fit`
        records it.
        """
        X, Y = self._check_XY(X, Y)
        lr = np.asarray(lr, dtype=self.dtype)
        if lr.shape not in ((), (self.K,)) or not np.all(
                np.isfinite(lr) & (lr > 0)):
            raise ValueError(f"lr must be a positive number or {self.K} "
                             f"positive numbers (K,); got {lr!r}")
        if (isinstance(epochs, bool)
                or not isinstance(epochs, (int, np.integer)) or epochs < 0):
            raise ValueError(f"epochs must be a non-negative integer; "
                             f"got {epochs!r}")
        lr = np.broadcast_to(lr, (self.K,))
        history = np.empty((epochs, self.K), dtype=self.dtype)
        for e in range(epochs):
            losses, grads = self._loss_and_grads(X, Y)
            if e > 0:
                history[e - 1] = losses            # the loss after e steps
            for p, g in zip(self.params, grads):
                p -= lr.reshape((-1,) + (1,) * (p.ndim - 1)) * g
        if epochs:
            self._forward(X)
            history[-1] = self._output_loss(Y)[0]
        return history

    def __repr__(self):
        return (f"Ensemble(K={self.K}, {self.sizes}, hidden={self.hidden!r}, "
                f"output={self.output!r}, loss={self.loss_name!r})")
