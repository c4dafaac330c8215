"""The package's backpropagation against brute-force SymPy differentiation.

`backprop.symbolic.symbolic_mlp` writes a tiny network out with a symbol for every weight,
bias, input and target; SymPy differentiates the loss E with respect to every parameter
directly (no delta rule). `MLP.loss_and_grads` must give the same numbers, and its error
signals `net.deltas` must equal dE/dZ[l] taken by brute force. Tolerance: relative
error < 1e-10 in float64 (the two differ by rounding only, observed ~1e-15).
"""

import numpy as np
import pytest
import sympy as sp

import backprop
from backprop import MLP
from backprop.gradcheck import relative_error
from backprop.symbolic import SymbolicMLP, brute_force_gradients, symbolic_mlp

TOL = 1e-10
HIDDEN = ["sigmoid", "tanh", "relu"]
ONE_OUTPUT_PAIRS = [("identity", "mse"), ("sigmoid", "mse"), ("sigmoid", "bce")]

CASES = (
    [([2, 2, 1], h, o, l, 2) for h in HIDDEN for o, l in ONE_OUTPUT_PAIRS]
    + [([2, 3, 2, 1], h, o, l, 1) for h in HIDDEN for o, l in ONE_OUTPUT_PAIRS]
    + [([2, 2, 3], h, "softmax", "cross_entropy", 2) for h in HIDDEN]
    + [([2, 2, 3], h, "softmax", "mse", 1) for h in HIDDEN]
    + [([2, 3, 2, 3], "tanh", "softmax", "cross_entropy", 1)]
)


def _problem(sizes, hidden, output, loss, n, seed):
    """A network with random weights and biases, and data, all drawn from backprop.SEED.

    For ReLU every hidden pre-activation is kept at least 0.05 away from its kink at 0,
    where SymPy's Heaviside (1/2) and the package (0) legitimately differ.
    """
    rng = np.random.default_rng(backprop.SEED + seed)
    net = MLP(sizes, hidden=hidden, output=output, loss=loss, seed=backprop.SEED + seed)
    for _ in range(100):
        for p in net.params:
            p[...] = rng.normal(size=p.shape)
        X = rng.normal(size=(n, sizes[0]))
        net.forward(X)
        if hidden != "relu" or all(np.abs(layer.Z).min() > 0.05 for layer in net.layers[:-1]):
            break
    else:  # pragma: no cover - 100 draws all near the kink would be a bug in the setup
        raise AssertionError("could not draw ReLU pre-activations away from 0")
    if loss == "cross_entropy":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=n)]
    elif loss == "bce":
        Y = rng.uniform(size=(n, sizes[-1]))
    else:
        Y = rng.normal(size=(n, sizes[-1]))
    return net, X, Y


@pytest.mark.parametrize("sizes, hidden, output, loss, n", CASES)
def test_brute_force_gradients_equal_backprop(sizes, hidden, output, loss, n):
    net, X, Y = _problem(sizes, hidden, output, loss, n, seed=len(sizes))
    sym = symbolic_mlp(sizes, hidden=hidden, output=output, loss=loss, n_samples=n)
    E_sym, grads_sym = sym.evaluate(net.params, X, Y)
    E_pkg, grads_pkg = net.loss_and_grads(X, Y)
    assert abs(E_sym - E_pkg) <= TOL * max(1.0, abs(E_pkg))
    assert len(grads_sym) == len(grads_pkg)
    for name, gs, gp in zip(net.param_names, grads_sym, grads_pkg):
        assert gs.shape == gp.shape, name
        assert relative_error(gs, gp) < TOL, (name, relative_error(gs, gp))
        assert np.any(gp != 0), name   # a vacuous all-zero comparison would prove nothing


@pytest.mark.parametrize("hidden", HIDDEN)
def test_brute_force_deltas_equal_package_deltas(hidden):
    sizes, n = [2, 3, 2, 1], 1
    net, X, Y = _problem(sizes, hidden, "sigmoid", "bce", n, seed=7)
    sym = symbolic_mlp(sizes, hidden=hidden, output="sigmoid", loss="bce", n_samples=n)
    net.loss_and_grads(X, Y)
    values = sym.substitutions(net.params, X, Y)
    for l in range(1, len(sizes)):
        delta_l = sp.lambdify(list(values), sym.delta(l), modules="numpy", cse=True)
        d_sym = np.asarray(delta_l(*values.values()), dtype=float)
        assert d_sym.shape == net.deltas[l - 1].shape == (n, sizes[l])
        assert relative_error(d_sym, net.deltas[l - 1]) < TOL, l


def test_structure_follows_conventions():
    sym = symbolic_mlp([2, 3, 1], hidden="tanh", output="identity", loss="mse", n_samples=2)
    assert sym.X.shape == (2, 2) and sym.Y.shape == (2, 1)
    assert sym.W[1].shape == (2, 3) and sym.b[1].shape == (1, 3)
    assert sym.Z[2].shape == sym.A[2].shape == (2, 1)
    assert sym.A[0] == sym.X
    # Z[1] = X W[1] + b[1], entry by entry
    assert sp.expand(sym.Z[1][1, 2] - (sym.X[1, 0] * sym.W[1][0, 2] + sym.X[1, 1] * sym.W[1][1, 2]
                                        + sym.b[1][0, 2])) == 0
    assert sym.A[1][0, 0] == sp.tanh(sym.Z[1][0, 0])
    # MSE = 1/(2N) sum (y - y_hat)^2 with N = 2
    y_hat = sym.A[2]
    expected = ((sym.Y[0, 0] - y_hat[0, 0]) ** 2 + (sym.Y[1, 0] - y_hat[1, 0]) ** 2) / 4
    assert sp.expand(sym.E - expected) == 0
    assert [m.shape for m in sym.params] == [(2, 3), (1, 3), (3, 1), (1, 1)]


def test_single_sample_names_and_labels():
    sym = symbolic_mlp([2, 2, 3], hidden="sigmoid", output="softmax", loss="cross_entropy")
    assert str(sym.X[0, 1]) == "x_{2}" and str(sym.W[1][0, 1]) == "w^{[1]}_{12}"
    net, X, Y = _problem([2, 2, 3], "sigmoid", "softmax", "cross_entropy", 1, seed=3)
    labels = Y.argmax(axis=1)
    g_onehot = brute_force_gradients(sym, net.params, X, Y)
    g_labels = brute_force_gradients(sym, net.params, X, labels)
    for a, b in zip(g_onehot, g_labels):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("kwargs, error", [
    (dict(sizes=[2]), ValueError),
    (dict(sizes=[2, 0, 1]), ValueError),
    (dict(sizes=[2, 1.5, 1]), TypeError),
    (dict(sizes=[2, 1], hidden="softplus"), ValueError),
    (dict(sizes=[2, 1], output="relu"), ValueError),
    (dict(sizes=[2, 1], loss="hinge"), ValueError),
    (dict(sizes=[2, 3], output="softmax", loss="bce"), ValueError),
    (dict(sizes=[2, 1], output="identity", loss="bce"), ValueError),
    (dict(sizes=[2, 3], output="sigmoid", loss="cross_entropy"), ValueError),
    (dict(sizes=[2, 1], n_samples=0), ValueError),
    (dict(sizes=[2, 1], n_samples=2.0), TypeError),
    (dict(sizes=[2, 1], hidden=None), TypeError),
])
def test_bad_arguments_are_rejected(kwargs, error):
    with pytest.raises(error):
        symbolic_mlp(**kwargs)


def test_bad_numbers_are_rejected():
    sym = symbolic_mlp([2, 2, 1], n_samples=2)
    net, X, Y = _problem([2, 2, 1], "sigmoid", "sigmoid", "mse", 2, seed=1)
    with pytest.raises(ValueError, match="4 arrays"):
        sym.evaluate(net.params[:2], X, Y)
    with pytest.raises(ValueError, match=r"b1 must have shape \(2,\)"):
        sym.evaluate([net.params[0], net.params[1][None, :], *net.params[2:]], X, Y)
    with pytest.raises(ValueError, match="X must have shape"):
        sym.evaluate(net.params, X[:1], Y)
    with pytest.raises(ValueError, match="Y must have shape"):
        sym.evaluate(net.params, X, Y.T)
    with pytest.raises(ValueError, match="finite"):
        sym.evaluate(net.params, np.full_like(X, np.nan), Y)
    with pytest.raises(TypeError, match="real numbers"):
        sym.evaluate(net.params, X.astype(complex), Y)
    with pytest.raises(ValueError, match="layer l"):
        sym.delta(3)
    with pytest.raises(TypeError, match="symbols"):
        sym.grad(sym.Z[1])
    with pytest.raises(TypeError, match="SymbolicMLP"):
        brute_force_gradients(net, net.params, X, Y)
    assert isinstance(sym, SymbolicMLP)


def test_symbol_names_stay_distinct_beyond_nine_units():
    net = symbolic_mlp([11, 11], hidden="sigmoid", output="identity", loss="mse")
    W = net.W[1]
    assert len(set(W)) == 121 and W[10, 0] != W[0, 10]


def test_forward_from_placeholders_rebuilds_the_network():
    """forward_from(l, Z[l]) gives back Z[k], A[k]; with placeholders it is the
    rest of the network as a function of Z[l] (used for eq-delta-dz)."""
    sym = symbolic_mlp([2, 3, 2, 1], hidden="tanh", output="sigmoid", loss="mse",
                       n_samples=2)
    again = sym.forward_from(2, sym.Z[2])
    assert sorted(again) == [2, 3]
    for k, (Z, A) in again.items():
        assert (Z - sym.Z[k]).applyfunc(sp.expand) == sp.zeros(*Z.shape)
        assert (A - sym.A[k]).applyfunc(sp.expand) == sp.zeros(*A.shape)
    S = sym.placeholders(1, "s")
    assert S.shape == sym.Z[1].shape and len(set(S)) == S.rows * S.cols
    assert not set(S) & sym.E.free_symbols
    Z_next = sym.forward_from(1, S)[2][0]
    for m in range(2):
        for n in range(2):
            for j in range(3):
                for k in range(2):   # dz[2]_mk / dz[1]_nj = [m = n] w_jk tanh'(s_nj)
                    want = sym.W[2][j, k] * (1 - sp.tanh(S[n, j]) ** 2) if m == n else 0
                    assert sp.simplify(sp.diff(Z_next[m, k], S[n, j]) - want) == 0


@pytest.mark.parametrize("sizes, output, loss", [
    ([2, 2, 1], "sigmoid", "mse"), ([2, 2, 1], "sigmoid", "bce"),
    ([2, 2, 3], "softmax", "cross_entropy"), ([2, 2, 3], "softmax", "mse"),
])
def test_loss_of_outputs_is_the_loss(sizes, output, loss):
    sym = symbolic_mlp(sizes, hidden="tanh", output=output, loss=loss, n_samples=2)
    Q = sym.placeholders(len(sizes) - 1, "q")
    E_of_A = sym.loss_of_outputs(Q).subs(dict(zip(Q, sym.A[len(sizes) - 1])))
    net, X, Y = _problem(sizes, "tanh", output, loss, 2, seed=11)
    values = sym.substitutions(net.params, X, Y)
    got = float(sp.N(E_of_A.subs(values), 30))
    assert abs(got - net.loss(X, Y)) < 1e-12 * max(1.0, abs(got))


def test_new_helpers_reject_bad_input():
    sym = symbolic_mlp([2, 2, 1], n_samples=1)
    with pytest.raises(ValueError, match="layer l"):
        sym.placeholders(0)
    with pytest.raises(ValueError, match="letter"):
        sym.placeholders(1, "s1")
    with pytest.raises(ValueError, match="shape"):
        sym.forward_from(1, sp.zeros(2, 2))
    with pytest.raises(ValueError, match="shape"):
        sym.forward_from(2, [[0]])
    with pytest.raises(ValueError, match="A_out"):
        sym.loss_of_outputs(sp.zeros(1, 2))
