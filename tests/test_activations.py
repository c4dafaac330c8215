"""Activations: values, derivatives against SymPy and central differences, stability."""

import warnings

import numpy as np
import pytest

from backprop import symbolic
from backprop.activations import ACTIVATIONS, get_activation, sigmoid
from backprop.gradcheck import relative_error

H = 1e-6
ELEMENTWISE = ["identity", "sigmoid", "tanh", "relu"]


@pytest.fixture
def points():
    z = np.random.default_rng(0).uniform(-8, 8, size=500)
    return z[np.abs(z) > 10 * H]  # keep central differences off ReLU's kink


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_sympy_and_central_differences(name, points):
    act = get_activation(name)
    package = act.derivative(points)
    sympy_values = symbolic.lambdify(symbolic.activation_derivative(name))(points)
    central = (act.forward(points + H) - act.forward(points - H)) / (2 * H)
    assert relative_error(package, sympy_values) < 1e-13
    assert relative_error(package, central) < 1e-8


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_value_matches_sympy(name, points):
    f = symbolic.lambdify(symbolic.activation_expr(name))
    assert relative_error(get_activation(name).forward(points), f(points)) < 1e-14


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_is_grad_times_derivative(name, points):
    act = get_activation(name)
    g = np.random.default_rng(1).normal(size=points.shape)
    a = act.forward(points)
    np.testing.assert_allclose(act.backward(points, a, g), g * act.derivative(points), rtol=1e-14)


def test_softmax_backward_matches_central_differences():
    rng = np.random.default_rng(2)
    softmax = get_activation("softmax")
    z = rng.normal(size=(4, 5))
    g = rng.normal(size=(4, 5))
    numeric = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[idx] = H
        numeric[idx] = (np.sum(g * softmax.forward(z + e)) - np.sum(g * softmax.forward(z - e))) / (2 * H)
    assert relative_error(softmax.backward(z, softmax.forward(z), g), numeric) < 1e-8


def test_softmax_rows_are_distributions_even_for_huge_logits():
    a = get_activation("softmax").forward(np.array([[1e4, 0.0, -1e4], [3.0, 3.0, 3.0]]))
    assert np.all(np.isfinite(a))
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(a[1], 1 / 3)


def test_softmax_has_no_elementwise_derivative():
    with pytest.raises(TypeError, match="not element-wise"):
        get_activation("softmax").derivative(np.zeros(3))


def test_sigmoid_never_overflows_or_warns():
    z = np.array([-1e3, -800.0, -709.8, -30.0, 0.0, 30.0, 800.0, 1e3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            s = sigmoid(z)
    assert np.all(np.isfinite(s))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[4] == 0.5
    assert np.all(np.diff(s) >= 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_dtype_is_preserved(name, dtype):
    act = get_activation(name)
    z = np.linspace(-3, 3, 12, dtype=dtype).reshape(3, 4)
    a = act.forward(z)
    assert a.dtype == dtype
    assert act.backward(z, a, np.ones_like(z)).dtype == dtype


def test_relu_derivative_is_zero_at_the_kink():
    assert get_activation("relu").derivative(np.array([0.0]))[0] == 0.0


@pytest.mark.parametrize("bad", ["Sigmoid", "gelu", ""])
def test_unknown_name_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="unknown activation"):
        get_activation(bad)


def test_non_string_name_is_a_type_error():
    with pytest.raises(TypeError):
        get_activation(3)
