"""Optimizers: backpropagation computes the gradient, the optimizer decides the step.

An optimizer is built on a list of parameter arrays (``net.params``) and updates them
**in place** from a list of gradients aligned with them. Any state (velocity, moment
estimates, step count) lives in the optimizer, one array per parameter.

Update rules for one parameter w with gradient g (t counts steps from 1):

* ``SGD``:       w <- w - lr g                                        (eq-sgd)
* ``Momentum``:  v <- mu v - lr g;  w <- w + v                        (eq-momentum)
* ``RMSprop``:   s <- rho s + (1 - rho) g^2;  w <- w - lr g / (sqrt(s) + eps)   (eq-rmsprop)
* ``Adam``:      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
                 m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t);
                 w <- w - lr m_hat / (sqrt(v_hat) + eps)              (eq-adam)

Mini-batch SGD is ``SGD`` fed with gradients of mini-batches (see
:func:`backprop.training.fit`); the rule itself does not change.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_name


class Optimizer:
    """Base class: holds the parameters and checks the gradients' shapes."""

    def __init__(self, params, lr: float):
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"params[{i}] must be a floating NumPy array; got {type(p).__name__}")
        if not (isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate lr must be a positive finite number; got {lr!r}")
        self.lr = float(lr)
        self.t = 0

    def _check(self, grads):
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"expected {len(self.params)} gradients (one per parameter); got {len(grads)}")
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if np.shape(g) != p.shape:
                raise ValueError(f"grads[{i}] must have shape {p.shape}; got {np.shape(g)}")
            if not np.all(np.isfinite(g)):
                raise ValueError(f"grads[{i}] holds NaN or inf; refusing to update the parameters")
        return grads

    def step(self, grads) -> None:
        """Update every parameter in place from its gradient."""
        grads = self._check(grads)
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            self._update(i, p, np.asarray(g, dtype=p.dtype))

    def _update(self, i, p, g):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Plain gradient descent: w <- w - lr g (eq-sgd)."""

    def __init__(self, params, lr: float = 0.1):
        super().__init__(params, lr)

    def _update(self, i, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum: v <- mu v - lr g; w <- w + v (eq-momentum). Default mu = 0.9."""

    def __init__(self, params, lr: float = 0.01, mu: float = 0.9):
        super().__init__(params, lr)
        if not 0 <= mu < 1:
            raise ValueError(f"momentum mu must be in [0, 1); got {mu}")
        self.mu = mu
        self.v = [np.zeros_like(p) for p in self.params]

    def _update(self, i, p, g):
        v = self.v[i]
        v *= self.mu
        v -= self.lr * g
        p += v


class RMSprop(Optimizer):
    """RMSprop: s <- rho s + (1 - rho) g^2; w <- w - lr g / (sqrt(s) + eps) (eq-rmsprop).

    Defaults lr = 1e-3, rho = 0.9, eps = 1e-8.
    """

    def __init__(self, params, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(params, lr)
        if not 0 <= rho < 1:
            raise ValueError(f"rho must be in [0, 1); got {rho}")
        self.rho, self.eps = rho, eps
        self.s = [np.zeros_like(p) for p in self.params]

    def _update(self, i, p, g):
        s = self.s[i]
        s *= self.rho
        s += (1 - self.rho) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam with bias correction (eq-adam; Kingma & Ba 2014).

    Defaults lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 (the paper's).
    """

    def __init__(self, params, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        super().__init__(params, lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"{name} must be in [0, 1); got {beta}")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def _update(self, i, p, g):
        m, v = self.m[i], self.v[i]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam}


def get_optimizer(name: str, params, **kwargs) -> Optimizer:
    """Build an optimizer by name (sgd, momentum, rmsprop, adam) on ``params``."""
    return OPTIMIZERS[check_name(name, OPTIMIZERS, "optimizer")](params, **kwargs)
