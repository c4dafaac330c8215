"""Tests for backprop.init: each scheme draws weights with the std its formula gives.

Statistics used: for n independent draws from N(0, s^2), the sample std has a relative
standard error of about 1/sqrt(2n) and the sample mean a standard error of s/sqrt(n).
We allow 5 standard errors (a false alarm has probability below 1e-6 per check; the
seeds are fixed, so the tests are deterministic anyway).
"""

import numpy as np
import pytest

import backprop
from backprop import MLP
from backprop.init import INIT_SCHEMES, INIT_STD, init_weights, resolve_init

SIZES = [400, 300, 200]  # two weight matrices with 120,000 and 60,000 entries
FORMULAS = {
    "normal": lambda n_in, n_out: 1.0,
    "xavier": lambda n_in, n_out: np.sqrt(2.0 / (n_in + n_out)),
    "he": lambda n_in, n_out: np.sqrt(2.0 / n_in),
}
K_SE = 5.0


@pytest.mark.parametrize("scheme", ["normal", "xavier", "he"])
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_weight_std_matches_formula(scheme, hidden):
    net = MLP(SIZES, hidden=hidden, output="identity", seed=backprop.SEED, init=scheme)
    assert net.init == scheme
    for layer in net.layers:
        n_in, n_out = layer.W.shape
        n = layer.W.size
        expected = FORMULAS[scheme](n_in, n_out)
        std = layer.W.std()
        assert abs(std / expected - 1) < K_SE / np.sqrt(2 * n), (scheme, std, expected)
        assert abs(layer.W.mean()) < K_SE * expected / np.sqrt(n)


@pytest.mark.parametrize("scheme", ["normal", "xavier", "he"])
def test_formula_table_in_module(scheme):
    for n_in, n_out in [(1, 1), (3, 7), (64, 10)]:
        assert np.isclose(INIT_STD[scheme](n_in, n_out), FORMULAS[scheme](n_in, n_out))


@pytest.mark.parametrize("scheme", ["normal", "xavier", "he", "auto"])
def test_biases_start_at_zero(scheme):
    net = MLP([5, 4, 3], hidden="sigmoid", seed=backprop.SEED, init=scheme)
    for layer in net.layers:
        assert layer.b.shape == (layer.W.shape[1],)
        assert np.all(layer.b == 0)


@pytest.mark.parametrize("hidden, expected", [
    ("relu", "he"), ("tanh", "xavier"), ("sigmoid", "xavier"), ("identity", "xavier")])
def test_auto_picks_he_for_relu(hidden, expected):
    assert resolve_init("auto", hidden) == expected
    net = MLP([6, 5, 2], hidden=hidden, seed=backprop.SEED)  # default init="auto"
    assert net.init == expected
    ref = MLP([6, 5, 2], hidden=hidden, seed=backprop.SEED, init=expected)
    assert all(np.array_equal(a, b) for a, b in zip(net.params, ref.params))


def test_dtype_shape_and_reproducibility():
    rng1, rng2 = (np.random.default_rng(backprop.SEED) for _ in range(2))
    W1 = init_weights(7, 3, "he", rng1, np.float32)
    W2 = init_weights(7, 3, "he", rng2, np.float32)
    assert W1.shape == (7, 3) and W1.dtype == np.float32
    assert np.array_equal(W1, W2)
    a = MLP([4, 3, 2], seed=1, init="xavier").params
    b = MLP([4, 3, 2], seed=2, init="xavier").params
    assert not np.array_equal(a[0], b[0])


def test_schemes_listed():
    assert set(INIT_SCHEMES) == {"normal", "xavier", "he", "auto"}


@pytest.mark.parametrize("bad", ["glorot", "He", "", "uniform"])
def test_unknown_scheme_is_a_value_error(bad):
    with pytest.raises(ValueError, match="init"):
        MLP([3, 2, 1], init=bad)
    with pytest.raises(ValueError, match="init"):
        init_weights(3, 2, bad, np.random.default_rng(0), np.float64)


@pytest.mark.parametrize("bad", [None, 1, ["he"]])
def test_non_string_scheme_is_a_type_error(bad):
    with pytest.raises(TypeError, match="init"):
        MLP([3, 2, 1], init=bad)


def test_auto_is_not_a_concrete_scheme_for_init_weights():
    with pytest.raises(ValueError, match="init"):
        init_weights(3, 2, "auto", np.random.default_rng(0), np.float64)
