"""Tests for backprop.clip: gradient-norm clipping (eq-vanishing-clip) and
per-layer norms."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import backprop
from backprop import MLP
from backprop.clip import clip_grad_norm, global_norm, layer_grad_norms


def _grads(seed=0, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(backprop.SEED + seed)
    shapes = [(3, 4), (4,), (4, 2), (2,)]
    return [(scale * rng.standard_normal(s)).astype(dtype) for s in shapes]


def test_global_norm_is_norm_of_concatenation():
    g = _grads()
    flat = np.concatenate([x.ravel() for x in g])
    assert np.isclose(global_norm(g), np.linalg.norm(flat), rtol=1e-14)


def test_global_norm_does_not_overflow():
    g = [np.full((2, 2), 1e200), np.full(3, -1e200)]
    assert np.isclose(global_norm(g), 1e200 * np.sqrt(7), rtol=1e-14)


def test_clip_scales_to_max_norm_and_keeps_direction():
    g = _grads(scale=10.0)
    total = global_norm(g)
    assert total > 5.0
    clipped, reported = clip_grad_norm(g, 5.0)
    assert reported == total
    assert np.isclose(global_norm(clipped), 5.0, rtol=1e-12)
    for a, c in zip(g, clipped):
        assert c.shape == a.shape and c.dtype == a.dtype
        assert np.allclose(c, a * (5.0 / total), rtol=1e-14, atol=0)


def test_clip_leaves_small_gradients_unchanged_and_returns_copies():
    g = _grads(scale=0.01)
    before = [x.copy() for x in g]
    clipped, total = clip_grad_norm(g, 1.0)
    assert total < 1.0
    for a, b, c in zip(g, before, clipped):
        assert np.array_equal(a, b)           # input untouched
        assert np.array_equal(c, a)           # value unchanged
        assert not np.shares_memory(c, a)     # but a new array


def test_clip_never_modifies_inputs_when_clipping():
    g = _grads(scale=100.0)
    before = [x.copy() for x in g]
    clip_grad_norm(g, 1.0)
    assert all(np.array_equal(a, b) for a, b in zip(g, before))


def test_clip_keeps_float32():
    g = _grads(scale=10.0, dtype=np.float32)
    clipped, _ = clip_grad_norm(g, 1.0)
    assert all(c.dtype == np.float32 for c in clipped)
    assert np.isclose(global_norm(clipped), 1.0, rtol=1e-6)


def test_clip_zero_gradient():
    g = [np.zeros((2, 2)), np.zeros(2)]
    clipped, total = clip_grad_norm(g, 1.0)
    assert total == 0.0
    assert all(np.all(c == 0) and c.shape == a.shape
               for c, a in zip(clipped, g))


@settings(max_examples=50, deadline=None)
@given(log_scale=st.floats(-6, 6), max_norm=st.floats(1e-3, 1e3),
       seed=st.integers(0, 100))
def test_clip_property(log_scale, max_norm, seed):
    g = _grads(seed=seed, scale=10.0 ** log_scale)
    clipped, total = clip_grad_norm(g, max_norm)
    new = global_norm(clipped)
    assert new <= max_norm * (1 + 1e-12)            # never above the cap
    # norm = min(||g||, c)
    assert np.isclose(new, min(total, max_norm), rtol=1e-12)
    flat_g = np.concatenate([x.ravel() for x in g])
    flat_c = np.concatenate([x.ravel() for x in clipped])
    cos = flat_g @ flat_c / (np.linalg.norm(flat_g) * np.linalg.norm(flat_c))
    assert np.isclose(cos, 1.0, rtol=1e-12)                   # same direction


@pytest.mark.parametrize("grads, err", [
    (np.ones(3), TypeError),
    ("abc", TypeError),
    ([], ValueError),
    ([np.ones(2, dtype=int)], TypeError),
    ([[1.0, 2.0]], TypeError),
    ([np.array([1.0, np.nan])], ValueError),
    ([np.array([np.inf])], ValueError),
])
def test_clip_bad_grads(grads, err):
    with pytest.raises(err):
        clip_grad_norm(grads, 1.0)


@pytest.mark.parametrize("max_norm, err", [
    (0.0, ValueError), (-1.0, ValueError), (np.inf, ValueError),
    (np.nan, ValueError),
    ("1", TypeError), (None, TypeError), (True, TypeError),
])
def test_clip_bad_max_norm(max_norm, err):
    with pytest.raises(err, match="max_norm"):
        clip_grad_norm(_grads(), max_norm)


def _net_and_data(hidden="tanh"):
    net = MLP([5, 7, 6, 3], hidden=hidden, output="identity", loss="mse",
              seed=backprop.SEED)
    rng = np.random.default_rng(backprop.SEED + 1)
    return net, rng.standard_normal((11, 5)), rng.standard_normal((11, 3))


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
def test_layer_grad_norms_match_direct_computation(hidden):
    net, X, Y = _net_and_data(hidden)
    _, grads = net.loss_and_grads(X, Y)
    norms = layer_grad_norms(net)
    assert set(norms) == {"delta", "dW"}
    assert norms["delta"].shape == norms["dW"].shape == (3,)
    for l, layer in enumerate(net.layers):
        assert np.isclose(norms["delta"][l], np.linalg.norm(layer.delta),
                          rtol=1e-14)
        assert np.isclose(norms["dW"][l], np.linalg.norm(grads[2 * l]),
                          rtol=1e-14)


def test_layer_grad_norms_agree_with_central_differences():
    """||dE/dW[l]|| from backprop equals the norm of a float64
    central-difference gradient."""
    from backprop.gradcheck import numerical_gradient
    net, X, Y = _net_and_data("tanh")
    net.loss_and_grads(X, Y)
    norms = layer_grad_norms(net)["dW"]
    for l, layer in enumerate(net.layers):
        num = numerical_gradient(lambda: net.loss(X, Y), layer.W)
        assert abs(norms[l] - np.linalg.norm(num)) / norms[l] < 1e-7


def test_delta_norm_of_first_layer_is_dE_dZ1():
    """delta[1] = dE/dZ[1]: perturbing Z[1] via b[1] (dZ/db = 1 per row)
    sums delta's rows."""
    net, X, Y = _net_and_data("sigmoid")
    net.loss_and_grads(X, Y)
    from backprop.gradcheck import numerical_gradient
    num_db1 = numerical_gradient(lambda: net.loss(X, Y), net.layers[0].b)
    assert np.allclose(net.layers[0].delta.sum(axis=0), num_db1,
                       rtol=1e-6, atol=1e-10)


def test_layer_grad_norms_before_any_gradient_raises():
    net, X, _ = _net_and_data()
    net.forward(X)  # a forward pass alone leaves no gradients
    with pytest.raises(ValueError, match="loss_and_grads"):
        layer_grad_norms(net)


@pytest.mark.parametrize("bad", [None, 3, [np.ones(2)], object()])
def test_layer_grad_norms_bad_net(bad):
    with pytest.raises(TypeError, match="MLP"):
        layer_grad_norms(bad)
