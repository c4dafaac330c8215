"""backprop.ensemble.Ensemble trains K networks at once; each member must follow exactly
the trajectory of its own MLP + SGD run (same start, same gradients, same steps)."""

import numpy as np
import pytest

import backprop
from backprop import MLP
from backprop.data import xor
from backprop.ensemble import Ensemble
from backprop.optim import SGD
from backprop.training import fit

SEEDS = [backprop.SEED + k for k in range(5)]
CASES = [  # (hidden, output, loss)
    ("sigmoid", "sigmoid", "mse"),
    ("sigmoid", "sigmoid", "bce"),
    ("tanh", "sigmoid", "mse"),
    ("tanh", "sigmoid", "bce"),
    ("tanh", "identity", "mse"),
    ("relu", "softmax", "cross_entropy"),
]


def _data(loss):
    if loss == "cross_entropy":
        rng = np.random.default_rng(backprop.SEED)
        X = rng.normal(size=(12, 2))
        return X, (X[:, 0] > X[:, 1]).astype(np.intp) + (X[:, 0] > 1).astype(np.intp)  # 3 classes
    return xor()


@pytest.mark.parametrize("hidden,output,loss", CASES)
def test_members_match_separate_mlp_sgd_runs(hidden, output, loss):
    X, Y = _data(loss)
    n_out = 3 if loss == "cross_entropy" else 1
    sizes = [2, 3, 4, n_out]                       # two hidden layers: the recursion runs twice
    kwargs = dict(hidden=hidden, output=output, loss=loss, init="normal")
    lrs = np.array([0.1, 0.5, 1.0, 2.0, 4.0])
    if output == "identity":                       # an unbounded output diverges at lr = 4
        lrs = lrs / 20
    epochs = 300
    ens = Ensemble.from_seeds(sizes, SEEDS, **kwargs)
    history = ens.train(X, Y, lr=lrs, epochs=epochs)
    assert history.shape == (epochs, len(SEEDS))
    for k, seed in enumerate(SEEDS):
        net = MLP(sizes, seed=seed, **kwargs)
        ref = fit(net, X, Y, SGD(net.params, lr=float(lrs[k])), epochs=epochs, batch_size=None,
                  shuffle=False)
        for name, p, stacked in zip(net.param_names, net.params, ens.params):
            err = np.max(np.abs(p - stacked[k]))
            assert err < 1e-12, (k, name, err)
        np.testing.assert_allclose(history[:, k], ref["loss"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("hidden,output,loss", CASES)
def test_loss_and_grads_match_mlp(hidden, output, loss):
    X, Y = _data(loss)
    n_out = 3 if loss == "cross_entropy" else 1
    kwargs = dict(hidden=hidden, output=output, loss=loss)
    ens = Ensemble.from_seeds([2, 5, n_out], SEEDS, **kwargs)
    losses, grads = ens.loss_and_grads(X, Y)
    assert losses.shape == (len(SEEDS),)
    for k, seed in enumerate(SEEDS):
        value, ref = MLP([2, 5, n_out], seed=seed, **kwargs).loss_and_grads(X, Y)
        assert abs(losses[k] - value) < 1e-14
        for g, r in zip(grads, ref):
            assert g[k].shape == r.shape
            assert np.max(np.abs(g[k] - r)) < 1e-14


def test_gradient_matches_central_differences():
    # independent of MLP: E_k's gradient by central differences, float64, h = 1e-6
    X, Y = xor()
    ens = Ensemble.from_seeds([2, 3, 1], SEEDS[:2], hidden="tanh", output="sigmoid", loss="bce")
    _, grads = ens.loss_and_grads(X, Y)
    h = 1e-6
    for p, g in zip(ens.params, grads):
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + h
            plus = ens.loss_and_grads(X, Y)[0].sum()
            p[idx] = old - h
            minus = ens.loss_and_grads(X, Y)[0].sum()
            p[idx] = old
            num[idx] = (plus - minus) / (2 * h)
        rel = np.linalg.norm(num - g) / (np.linalg.norm(num) + np.linalg.norm(g))
        assert rel < 1e-8, rel


def test_member_is_a_copy_with_current_parameters():
    X, Y = xor()
    ens = Ensemble.from_seeds([2, 4, 1], SEEDS, hidden="sigmoid", output="sigmoid", loss="bce")
    ens.train(X, Y, lr=1.0, epochs=10)
    net = ens.member(2)
    assert np.array_equal(net.forward(X), ens.forward(X)[2])
    net.params[0][...] = 0
    assert not np.all(ens.params[0][2] == 0)


def test_bad_input_is_rejected():
    X, Y = xor()
    ens = Ensemble.from_seeds([2, 4, 1], SEEDS, hidden="sigmoid", output="sigmoid", loss="bce")
    with pytest.raises(TypeError, match="non-empty list"):
        Ensemble([])
    with pytest.raises(ValueError, match="must share"):
        Ensemble([MLP([2, 4, 1]), MLP([2, 3, 1])])
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        ens.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Y must have shape \(4, 1\)"):
        ens.loss_and_grads(X, Y[:3])
    with pytest.raises(ValueError, match="lr must be"):
        ens.train(X, Y, lr=[0.1, 0.2], epochs=1)
    with pytest.raises(ValueError, match="lr must be"):
        ens.train(X, Y, lr=-1.0, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        ens.train(X, Y, lr=0.1, epochs=-1)
    with pytest.raises(ValueError, match="k must be"):
        ens.member(len(SEEDS))
    with pytest.raises(ValueError, match="finite"):
        ens.forward(np.full((4, 2), np.nan))


def test_targets_are_checked_like_mlp():
    ens = Ensemble.from_seeds([2, 3, 1], [0, 1], hidden="tanh", output="sigmoid", loss="bce")
    X = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ens.loss_and_grads(X, np.array([[2.0], [0.0]]))
    ce = Ensemble.from_seeds([2, 3, 3], [0, 1], hidden="tanh", output="softmax", loss="cross_entropy")
    with pytest.raises(ValueError, match="sum to 1"):
        ce.loss_and_grads(X, np.ones((2, 3)))
    assert ens.member(0).init == ens.init


def test_member_keeps_the_init_scheme():
    ens = Ensemble.from_seeds([2, 3, 1], [0], hidden="tanh", output="sigmoid", loss="bce", init="normal")
    assert ens.member(0).init == "normal"
