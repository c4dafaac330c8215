"""Tests of backprop.optim: each update rule against a step computed by hand.

The test problem is the quadratic E(w) = 1/2 w^T A w - b^T w with a fixed symmetric
positive-definite A, whose gradient is A w - b. Every expected value below is written
out from the update equations (eq-sgd, eq-momentum, eq-rmsprop, eq-adam) with plain
NumPy, never by calling the optimizer's own code.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop import MLP
from backprop.optim import SGD, Adam, Momentum, Optimizer, RMSprop, get_optimizer

A = np.array([[3.0, 1.0], [1.0, 2.0]])
B = np.array([1.0, -1.0])
W0 = np.array([0.5, -0.3])


def grad(w):
    """Gradient A w - b of E(w) = 1/2 w^T A w - b^T w."""
    return A @ w - B


def run(opt_cls, steps, **kw):
    """Run ``steps`` steps of an optimizer on the quadratic; return the iterates."""
    w = W0.copy()
    opt = opt_cls([w], **kw)
    iterates = []
    for _ in range(steps):
        opt.step([grad(w)])
        iterates.append(w.copy())
    return iterates, opt, w


# --------------------------------------------------------------------------- one step by hand
def test_sgd_one_step_by_hand():  # eq-sgd
    lr = 0.1
    (w1,), _, _ = run(SGD, 1, lr=lr)
    g0 = np.array([3 * 0.5 + 1 * -0.3 - 1.0, 1 * 0.5 + 2 * -0.3 + 1.0])  # A w0 - b, by hand
    assert np.allclose(g0, [0.2, 0.9], rtol=0, atol=1e-15)
    expected = np.array([0.5 - lr * 0.2, -0.3 - lr * 0.9])
    np.testing.assert_allclose(w1, expected, rtol=1e-15, atol=0)


def test_momentum_two_steps_by_hand():  # eq-momentum
    lr, mu = 0.1, 0.9
    (w1, w2), opt, _ = run(Momentum, 2, lr=lr, mu=mu)
    g0 = grad(W0)
    v1 = -lr * g0                      # v starts at zero
    e1 = W0 + v1
    g1 = grad(e1)
    v2 = mu * v1 - lr * g1
    e2 = e1 + v2
    np.testing.assert_allclose(w1, e1, rtol=1e-14, atol=0)
    np.testing.assert_allclose(w2, e2, rtol=1e-14, atol=0)
    np.testing.assert_allclose(opt.v[0], v2, rtol=1e-14, atol=0)   # the velocity is state


def test_momentum_equals_weighted_sum_of_past_gradients():
    # v_t = -lr * sum_{k<t} mu^(t-1-k) g_k, so w_t = w_0 + sum of velocities.
    lr, mu, T = 0.05, 0.8, 12
    w = W0.copy()
    opt = Momentum([w], lr=lr, mu=mu)
    grads = []
    for _ in range(T):
        grads.append(grad(w))
        opt.step([grads[-1]])
    v_closed = -lr * sum(mu ** (T - 1 - k) * grads[k] for k in range(T))
    np.testing.assert_allclose(opt.v[0], v_closed, rtol=1e-12, atol=1e-15)


def test_rmsprop_two_steps_by_hand():  # eq-rmsprop
    lr, rho, eps = 0.01, 0.9, 1e-8
    (w1, w2), opt, _ = run(RMSprop, 2, lr=lr, rho=rho, eps=eps)
    g0 = grad(W0)
    s1 = (1 - rho) * g0 ** 2
    e1 = W0 - lr * g0 / (np.sqrt(s1) + eps)
    g1 = grad(e1)
    s2 = rho * s1 + (1 - rho) * g1 ** 2
    e2 = e1 - lr * g1 / (np.sqrt(s2) + eps)
    np.testing.assert_allclose(w1, e1, rtol=1e-14, atol=0)
    np.testing.assert_allclose(w2, e2, rtol=1e-14, atol=0)
    np.testing.assert_allclose(opt.s[0], s2, rtol=1e-14, atol=0)
    # first step: s1 = (1 - rho) g^2, so each component moves by lr / sqrt(1 - rho)
    np.testing.assert_allclose(np.abs(w1 - W0), lr / np.sqrt(1 - rho), rtol=1e-6)


def adam_by_hand(steps, lr, b1, b2, eps, bias_correction=True):
    w, m, v = W0.copy(), np.zeros(2), np.zeros(2)
    out = []
    for t in range(1, steps + 1):
        g = grad(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if bias_correction:
            m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        else:
            m_hat, v_hat = m, v
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w.copy())
    return out, m, v


def test_adam_first_step_is_lr_times_sign():  # eq-adam, t = 1
    lr, eps = 0.01, 1e-8
    (w1,), _, _ = run(Adam, 1, lr=lr, eps=eps)
    g0 = grad(W0)
    # m_hat = g and v_hat = g^2 exactly at t = 1, so the step is lr g / (|g| + eps)
    np.testing.assert_allclose(W0 - w1, lr * g0 / (np.abs(g0) + eps), rtol=1e-12, atol=0)
    np.testing.assert_allclose(W0 - w1, lr * np.sign(g0), rtol=1e-7, atol=0)


def test_adam_several_steps_with_bias_correction():  # eq-adam
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
    iterates, opt, _ = run(Adam, 6, lr=lr, beta1=b1, beta2=b2, eps=eps)
    expected, m, v = adam_by_hand(6, lr, b1, b2, eps)
    for got, want in zip(iterates, expected):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(opt.m[0], m, rtol=1e-13)
    np.testing.assert_allclose(opt.v[0], v, rtol=1e-13)
    assert opt.t == 6
    # without bias correction the first step would be about 3.16 times larger
    # (m shrunk by 1 - b1 = 0.1, sqrt(v) by sqrt(1 - b2) = 0.0316): the test can tell
    uncorrected, _, _ = adam_by_hand(6, lr, b1, b2, eps, bias_correction=False)
    g0 = np.abs(grad(W0))
    np.testing.assert_allclose(np.abs(uncorrected[0] - W0),
                               lr * (1 - b1) * g0 / (np.sqrt(1 - b2) * g0 + eps), rtol=1e-12)
    np.testing.assert_allclose(np.abs(uncorrected[0] - W0) / np.abs(expected[0] - W0),
                               (1 - b1) / np.sqrt(1 - b2), rtol=1e-5)
    assert not np.allclose(iterates[0], uncorrected[0])


@pytest.mark.parametrize("cls,kw", [(SGD, {"lr": 0.2}), (Momentum, {"lr": 0.05, "mu": 0.9}),
                                    (RMSprop, {"lr": 0.01}), (Adam, {"lr": 0.05})])
def test_every_optimizer_reaches_the_minimum(cls, kw):
    w_star = np.linalg.solve(A, B)
    _, _, w = run(cls, 3000, **kw)
    # RMSprop and Adam with a constant lr hover within about lr of the minimum
    tol = 1e-8 if cls in (SGD, Momentum) else 5 * kw["lr"]
    assert np.max(np.abs(w - w_star)) < tol, (cls.__name__, w, w_star)


# --------------------------------------------------------------------------- state and dtypes
def test_state_is_per_parameter_and_lives_in_the_optimizer():
    W = np.ones((3, 2))
    b = np.ones(2)
    opt = Adam([W, b], lr=0.1)
    assert [m.shape for m in opt.m] == [(3, 2), (2,)]
    assert [v.shape for v in opt.v] == [(3, 2), (2,)]
    gW, gb = np.full((3, 2), 0.5), np.zeros(2)
    gW_copy, gb_copy = gW.copy(), gb.copy()
    opt.step([gW, gb])
    assert np.array_equal(gW, gW_copy) and np.array_equal(gb, gb_copy)  # grads not touched
    assert np.array_equal(b, np.ones(2))            # zero gradient: b does not move
    assert np.all(opt.m[1] == 0) and np.all(opt.v[1] == 0)
    assert np.all(opt.m[0] != 0)
    # a second optimizer has its own state, own step counter
    W2 = np.ones((3, 2))
    opt2 = Adam([W2], lr=0.1)
    assert opt2.t == 0 and np.all(opt2.m[0] == 0)
    opt2.step([gW])
    np.testing.assert_allclose(W2, W)               # same rule, same first step
    assert opt.t == 1 and opt2.t == 1


@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam"])
def test_updates_in_place_and_float32_stays_float32(name):
    net = MLP([4, 3, 2], hidden="tanh", output="identity", loss="mse", seed=1, dtype=np.float32)
    params = net.params
    before = [p.copy() for p in params]
    opt = get_optimizer(name, params, lr=0.01)
    X = np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4)
    Y = np.zeros((5, 2), dtype=np.float32)
    for _ in range(3):
        _, grads = net.loss_and_grads(X, Y)
        opt.step([g.astype(np.float64) for g in grads])   # float64 grads do not upcast
    for p, q, old in zip(net.params, params, before):
        assert p is q                                 # the very same arrays
        assert p.dtype == np.float32
        assert not np.array_equal(p, old)            # and they moved
    for attr in ("v", "s", "m"):
        for state in getattr(opt, attr, []):
            assert state.dtype == np.float32


def test_get_optimizer_builds_the_named_class_with_its_arguments():
    w = np.zeros(2)
    for name, cls in [("sgd", SGD), ("momentum", Momentum), ("rmsprop", RMSprop), ("adam", Adam)]:
        opt = get_optimizer(name, [w], lr=0.3)
        assert type(opt) is cls and opt.lr == 0.3 and opt.params[0] is w
    assert get_optimizer("momentum", [w], lr=0.1, mu=0.5).mu == 0.5
    adam = get_optimizer("adam", [w], lr=0.1, beta1=0.8, beta2=0.99, eps=1e-6)
    assert (adam.beta1, adam.beta2, adam.eps) == (0.8, 0.99, 1e-6)
    assert isinstance(adam, Optimizer)


@settings(max_examples=40, deadline=None)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       lr=st.floats(1e-4, 1.0), seed=st.integers(0, 2 ** 16))
def test_sgd_and_adam_first_step_properties(shape, lr, seed):
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=shape)
    g = rng.normal(size=shape)
    g[np.abs(g) < 1e-3] = 1e-3                    # keep |g| >> eps
    w = w0.copy()
    SGD([w], lr=lr).step([g])
    np.testing.assert_allclose(w, w0 - lr * g, rtol=1e-14, atol=1e-15)
    w = w0.copy()
    Adam([w], lr=lr).step([g])
    assert np.all(np.abs(w - w0) <= lr * (1 + 1e-12))           # |first step| <= lr
    np.testing.assert_allclose(w0 - w, lr * np.sign(g), rtol=1e-4)


# --------------------------------------------------------------------------- bad input
def _all_optimizers(params):
    return [SGD(params, 0.1), Momentum(params, 0.1, 0.9), RMSprop(params, 0.1, 0.9, 1e-8),
            Adam(params, 0.1, 0.9, 0.999, 1e-8)]


@pytest.mark.parametrize("make_grads,err,match", [
    (lambda: [np.ones((2, 3))], ValueError, "expected 2 gradients"),
    (lambda: [np.ones((2, 3)), np.ones(3), np.ones(3)], ValueError, "expected 2 gradients"),
    (lambda: [np.ones((3, 2)), np.ones(3)], ValueError, r"grads\[0\] must have shape \(2, 3\)"),
    (lambda: [np.ones((2, 3)), np.ones(4)], ValueError, r"grads\[1\] must have shape \(3,\)"),
    (lambda: [np.ones((2, 3)), np.array([1.0, np.nan, 1.0])], ValueError, r"grads\[1\].*NaN"),
    (lambda: [np.full((2, 3), np.inf), np.ones(3)], ValueError, r"grads\[0\].*inf"),
    (lambda: [np.ones((2, 3)), np.array(["a", "b", "c"])], TypeError, r"grads\[1\].*real"),
])
def test_bad_grads_raise_and_leave_everything_unchanged(make_grads, err, match):
    W, b = np.arange(6.0).reshape(2, 3), np.arange(3.0)
    for opt in _all_optimizers([W, b]):
        opt.step([np.full((2, 3), 0.1), np.full(3, 0.1)])   # some state to protect
        W_before, b_before, t_before = W.copy(), b.copy(), opt.t
        state_before = [s.copy() for attr in ("v", "s", "m") for s in getattr(opt, attr, [])]
        with pytest.raises(err, match=match):
            opt.step(make_grads())
        assert np.array_equal(W, W_before) and np.array_equal(b, b_before)
        assert opt.t == t_before
        state_after = [s for attr in ("v", "s", "m") for s in getattr(opt, attr, [])]
        assert all(np.array_equal(x, y) for x, y in zip(state_before, state_after))


@pytest.mark.parametrize("lr", [0, -0.1, np.nan, np.inf, "0.1", None, True])
def test_bad_learning_rate(lr):
    w = np.ones(2)
    for cls in (SGD, Momentum, RMSprop, Adam):
        with pytest.raises((ValueError, TypeError), match="learning rate lr"):
            cls([w], lr=lr)


def test_float32_learning_rate_is_accepted():
    w = np.ones(2)
    assert SGD([w], lr=np.float32(0.5)).lr == 0.5


@pytest.mark.parametrize("kw,match", [
    ({"beta1": 1.0}, "beta1"), ({"beta1": -0.1}, "beta1"), ({"beta1": np.nan}, "beta1"),
    ({"beta2": 1.0}, "beta2"), ({"beta2": 1.5}, "beta2"), ({"beta2": "0.9"}, "beta2"),
    ({"eps": 0.0}, "eps"), ({"eps": -1e-8}, "eps"),
])
def test_bad_adam_hyperparameters(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Adam([np.ones(2)], lr=0.1, **kw)


@pytest.mark.parametrize("cls,kw,match", [
    (Momentum, {"mu": 1.0}, "mu"), (Momentum, {"mu": -0.5}, "mu"), (Momentum, {"mu": "x"}, "mu"),
    (RMSprop, {"rho": 1.0}, "rho"), (RMSprop, {"rho": -0.1}, "rho"), (RMSprop, {"eps": 0}, "eps"),
])
def test_bad_momentum_and_rmsprop_hyperparameters(cls, kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        cls([np.ones(2)], lr=0.1, **kw)


def test_bad_params():
    with pytest.raises(TypeError, match=r"params\[0\].*floating"):
        SGD([np.arange(3)], lr=0.1)             # integer array: cannot hold updates
    with pytest.raises(TypeError, match=r"params\[1\].*floating"):
        SGD([np.ones(2), [1.0, 2.0]], lr=0.1)   # a list is not a live array
    frozen = np.ones(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        Adam([frozen], lr=0.1)


def test_unknown_optimizer_name():
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'.*expected one of"):
        get_optimizer("adamw", [np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="optimizer must be a string"):
        get_optimizer(SGD, [np.ones(2)], lr=0.1)


def test_adam_fast_path_survives_deepcopy_and_pickle():
    """fit's flat-buffer Adam must train a copied optimizer exactly like a fresh one."""
    import copy
    import pickle

    from backprop import MLP
    from backprop.data import xor
    from backprop.training import fit

    X, Y = xor()

    def trained(make):
        net = MLP([2, 4, 1], hidden="tanh", output="sigmoid", loss="bce", seed=0)
        net, opt = make(net, Adam(net.params, lr=0.1))
        fit(net, X, Y, opt, epochs=30)
        return net.params

    reference = trained(lambda n, o: (n, o))
    for make in (lambda n, o: copy.deepcopy((n, o)), lambda n, o: pickle.loads(pickle.dumps((n, o)))):
        params = trained(make)
        assert all(np.array_equal(a, b) for a, b in zip(params, reference))


def test_gradients_are_checked_in_the_parameters_dtype():
    p = np.zeros(3, dtype=np.float32)
    with pytest.raises(ValueError, match="NaN or inf"):
        SGD([p], lr=0.1).step([np.full(3, 1e39)])   # finite in float64, inf in float32
    assert np.all(p == 0)
