"""The gradient checker itself: it must be right, restore its input, and catch bugs."""

import numpy as np
import pytest

from backprop import MLP
from backprop.gradcheck import check_gradients, numerical_gradient, relative_error


def test_numerical_gradient_of_a_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = numerical_gradient(lambda: np.sum(x ** 3), x)
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-8)


def test_input_is_restored_exactly_even_if_f_raises():
    x = np.array([0.1, 0.2, 0.3])
    before = x.copy()
    numerical_gradient(lambda: np.sum(np.sin(x)), x)
    assert np.array_equal(x, before)
    calls = []

    def boom():
        calls.append(1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(boom, x)
    assert np.array_equal(x, before)


def test_relative_error_definition():
    a, b = np.array([3.0, 4.0]), np.array([3.0, 4.0])
    assert relative_error(a, b) == 0.0
    assert np.isclose(relative_error(np.array([1.0]), np.array([-1.0])), 1.0)
    assert np.isclose(relative_error(np.array([1.0, 0.0]), np.array([1.1, 0.0])), 0.1 / 2.1)
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.zeros(2), np.zeros(3))


def test_bad_arguments():
    with pytest.raises(TypeError, match="floating NumPy array"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])
    with pytest.raises(TypeError, match="floating NumPy array"):
        numerical_gradient(lambda: 0.0, np.array([1, 2]))
    with pytest.raises(ValueError, match="positive"):
        numerical_gradient(lambda: 0.0, np.zeros(2), h=0)


def test_check_gradients_catches_a_broken_backward_pass():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    net = MLP([3, 4, 2], hidden="tanh", output="identity", loss="mse", seed=1)
    before = [p.copy() for p in net.params]
    good = check_gradients(net, X, Y)
    assert set(good) == {"W1", "b1", "W2", "b2"} and max(good.values()) < 1e-7
    assert all(np.array_equal(p, q) for p, q in zip(net.params, before))

    hidden = net.layers[0].activation
    original = hidden.backward
    hidden.backward = lambda z, a, g: g  # the classic bug: forget f'(z)
    try:
        bad = check_gradients(net, X, Y)
    finally:
        hidden.backward = original
    assert bad["W1"] > 1e-2 and bad["b1"] > 1e-2
    assert bad["W2"] < 1e-7  # the output layer is unaffected by a hidden-layer bug


class _Quadratic:
    """The smallest object check_gradients accepts: E(w, c) = sum(w^2 c) / 2."""

    dtype = np.dtype(np.float64)
    param_names = ["w", "c"]

    def __init__(self, wrong_factor=1.0):
        self.params = [np.array([0.3, -1.2, 2.0]), np.array([1.5, 0.5, 2.5])]
        self.wrong_factor = wrong_factor

    def loss(self, X, Y):
        w, c = self.params
        return float(np.sum(w * w * c) / 2)

    def loss_and_grads(self, X, Y):
        w, c = self.params
        return self.loss(X, Y), [self.wrong_factor * w * c, w * w / 2]


def test_check_gradients_accepts_any_object_with_the_five_attributes():
    """The docstring's promise, which the gradient-checking chapter relies on."""
    good = _Quadratic()
    before = [p.copy() for p in good.params]
    report = check_gradients(good, None, None)
    assert set(report) == {"w", "c"} and max(report.values()) < 1e-8
    assert all(np.array_equal(p, q) for p, q in zip(good.params, before))
    # a gradient off by a factor 2 scores |2 - 1| / (2 + 1) = 1/3 exactly
    bad = check_gradients(_Quadratic(wrong_factor=2.0), None, None)
    assert abs(bad["w"] - 1 / 3) < 1e-8 and bad["c"] < 1e-8
