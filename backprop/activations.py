"""Activation functions f and their derivatives f'.

Each activation is an :class:`Activation` with three methods:

* ``forward(z)`` computes ``a = f(z)`` element by element (softmax: row by
  row);
* ``derivative(z)`` computes ``f'(z)`` element by element (see
  :eq:`eq-sigmoid-prime`, :eq:`eq-tanh-prime`, :eq:`eq-relu-prime` in the
  book);
* ``backward(z, a, grad_a)`` turns dE/dA into dE/dZ. For an element-wise ``f``
  this is ``grad_a * f'(z)``; softmax mixes the units of a row, so it
  multiplies by its Jacobian.

Arrays keep their dtype: float32 in, float32 out. Look activations up by name
with :func:`get_activation`.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_name


def sigmoid(z):
    """Logistic sigmoid 1 / (1 + exp(-z)), computed without overflow.

    ``exp(-|z|)`` is never larger than 1, so neither branch can overflow, and
    no warning is raised even for |z| = 1e3. (The naive formula overflows for
    z < -log(largest float64), about -709.78.)
    """
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


class Activation:
    """An activation function: its name, value and derivative."""

    name = "activation"
    elementwise = True

    def forward(self, z):
        raise NotImplementedError

    def derivative(self, z):
        raise NotImplementedError

    def backward(self, z, a, grad_a):
        """dE/dZ from dE/dA for an element-wise activation: grad_a * f'(z)."""
        return grad_a * self.derivative(z)

    def __repr__(self):
        return f"<activation {self.name}>"


class Identity(Activation):
    """f(z) = z, f'(z) = 1."""

    name = "identity"

    def forward(self, z):
        return np.asarray(z)

    def derivative(self, z):
        return np.ones_like(z)

    def backward(self, z, a, grad_a):
        return grad_a


class Sigmoid(Activation):
    """f(z) = 1 / (1 + exp(-z)); f'(z) = f(z) (1 - f(z)) <= 1/4.

    The derivative is eq-sigmoid-prime, its bound eq-sigmoid-bound.
    """

    name = "sigmoid"

    def forward(self, z):
        return sigmoid(z)

    def derivative(self, z):
        s = sigmoid(z)
        return s * (1 - s)

    def backward(self, z, a, grad_a):
        # a = sigmoid(z) is cached by the layer: f'(z) = a (1 - a) needs no exp
        return grad_a * a * (1 - a)


class Tanh(Activation):
    """f(z) = tanh z; f'(z) = 1 - tanh(z)^2 (eq-tanh-prime)."""

    name = "tanh"

    def forward(self, z):
        return np.tanh(z)

    def derivative(self, z):
        t = np.tanh(z)
        return 1 - t * t

    def backward(self, z, a, grad_a):
        return grad_a * (1 - a * a)


class ReLU(Activation):
    """f(z) = max(0, z); f'(z) = 1 for z > 0 and 0 for z <= 0 (eq-relu-prime).

    ReLU has no derivative at z = 0. We use 0 there (any value in [0, 1] is a
    valid subgradient); the book's gradient-checking chapter shows how the
    kink shows up.
    """

    name = "relu"

    def forward(self, z):
        z = np.asarray(z)
        return np.maximum(z, 0)

    def derivative(self, z):
        z = np.asarray(z)
        return (z > 0).astype(z.dtype)

    def backward(self, z, a, grad_a):
        # grad_a * f'(z), with f'(z) = (z > 0) as a 0/1 mask that takes
        # grad_a's dtype. (np.where(z > 0, grad_a, 0) reads the same but
        # branches on every entry, and on a batch of 256 x 256 it was ten
        # times slower.)
        return grad_a * (z > 0)


class Softmax(Activation):
    """Row-wise softmax: a_k = exp(z_k) / sum_j exp(z_j) (eq-softmax).

    Not element-wise: each output depends on the whole row, so
    ``derivative`` (an element-wise f') does not exist; ``backward``
    multiplies by the Jacobian da_k/dz_j = a_k (1[j = k] - a_j) without
    forming it: dE/dz = a * (dE/da - sum_k a_k dE/da_k).
    """

    name = "softmax"
    elementwise = False

    def forward(self, z):
        z = np.asarray(z)
        e = np.exp(z - z.max(axis=-1, keepdims=True))  # never overflows
        e /= e.sum(axis=-1, keepdims=True)              # in place
        return e

    def derivative(self, z):
        raise TypeError(
            "softmax is not element-wise, so it has no element-wise "
            "derivative; use Softmax.backward(z, a, grad_a), which applies "
            "its Jacobian"
        )

    def backward(self, z, a, grad_a):
        return a * (grad_a - np.sum(grad_a * a, axis=-1, keepdims=True))


ACTIVATIONS = {cls.name: cls()
               for cls in (Identity, Sigmoid, Tanh, ReLU, Softmax)}


def get_activation(name: str) -> Activation:
    """Look an activation up by name.

    Names: identity, sigmoid, tanh, relu, softmax.
    """
    return ACTIVATIONS[check_name(name, ACTIVATIONS, "activation")]
