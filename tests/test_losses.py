"""Losses: values, gradients against central differences, stability, bad input."""

import warnings

import numpy as np
import pytest

from backprop.activations import get_activation, sigmoid
from backprop.gradcheck import numerical_gradient, relative_error
from backprop.losses import binary_cross_entropy, bce_with_logits, mse, softmax_cross_entropy

TOL = 1e-7  # relative error, float64 central differences with h = 1e-6


def grad_check(loss, pred, target):
    pred = pred.copy()
    _, analytic = loss(pred, target)
    numeric = numerical_gradient(lambda: loss(pred, target)[0], pred)
    return relative_error(analytic, numeric)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_mse_is_the_seeds_definition(rng):
    y_hat, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    value, grad = mse(y_hat, y)
    assert np.isclose(value, np.sum((y - y_hat) ** 2) / (2 * 5))
    np.testing.assert_allclose(grad, (y_hat - y) / 5)
    assert grad_check(mse, y_hat, y) < TOL


def test_bce_from_probabilities(rng):
    p, y = rng.uniform(0.05, 0.95, size=(6, 2)), (rng.uniform(size=(6, 2)) > 0.5).astype(float)
    value, _ = binary_cross_entropy(p, y)
    assert np.isclose(value, -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / 6)
    assert grad_check(binary_cross_entropy, p, y) < TOL


def test_bce_with_logits_equals_bce_of_sigmoid(rng):
    z, y = rng.normal(size=(6, 2)), rng.uniform(size=(6, 2))
    v1, g1 = bce_with_logits(z, y)
    v2, g2 = binary_cross_entropy(sigmoid(z), y)
    assert np.isclose(v1, v2, rtol=1e-12)
    np.testing.assert_allclose(g1, (sigmoid(z) - y) / 6)
    assert grad_check(bce_with_logits, z, y) < TOL


@pytest.mark.parametrize("labels", [True, False])
def test_softmax_cross_entropy(rng, labels):
    z = rng.normal(size=(7, 4))
    y_int = rng.integers(0, 4, size=7)
    y = y_int if labels else np.eye(4)[y_int]
    value, grad = softmax_cross_entropy(z, y)
    p = get_activation("softmax").forward(z)
    assert np.isclose(value, -np.mean(np.log(p[np.arange(7), y_int])))
    np.testing.assert_allclose(grad, (p - np.eye(4)[y_int]) / 7)
    assert grad_check(softmax_cross_entropy, z, y) < TOL


def test_stable_forms_are_finite_for_extreme_logits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            v, g = softmax_cross_entropy(z, np.array([1, 0]))
            vb, gb = bce_with_logits(z, np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]))
    assert np.isfinite(v) and np.all(np.isfinite(g)) and np.isclose(v, 2e4)
    assert np.isfinite(vb) and np.all(np.isfinite(gb))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_keep_float32(dtype, rng):
    z = rng.normal(size=(3, 2)).astype(dtype)
    y = rng.uniform(size=(3, 2)).astype(dtype)
    for loss in (mse, bce_with_logits):
        assert loss(z, y)[1].dtype == dtype
    assert softmax_cross_entropy(z, np.array([0, 1, 1]))[1].dtype == dtype


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="same shape"):
        mse(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="finite"):
        mse(np.array([[np.nan]]), np.array([[0.0]]))
    with pytest.raises(TypeError, match="real numbers"):
        mse(np.array([["a"]]), np.array([[0.0]]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binary_cross_entropy(np.array([[1.5]]), np.array([[1.0]]))
    with pytest.raises(ValueError, match="lie in 0..2"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(TypeError, match="integers"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="2 labels but z has 3 rows"):
        softmax_cross_entropy(np.zeros((3, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match="sum to 1"):
        softmax_cross_entropy(np.zeros((2, 2)), np.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="2-D"):
        mse(np.zeros(3), np.zeros(3))
