"""Checks that can fail: plausible bugs in the package must be caught.

``tests/test_book.py`` verifies that an asserting cell names each equation label; it
cannot tell whether that cell would notice a wrong formula. Here each mutation of
tests/mutations.py (a dropped transpose, a missing 1/N, sigma where sigma' belongs,
softmax over the wrong axis, Adam without bias correction, ...) is applied, one at a
time, to a copy of the package; the package tests of that code and the check cells of
the chapter that shows it must both fail, where the unmutated copy passes the same
commands. A mutation that survives means a check is too weak: strengthen the check.

The direct tests at the end kill mutants that ``mutmut`` found surviving the fast
package tests.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

import backprop
import mutations as M
from backprop import MLP
from backprop.activations import Activation, get_activation
from backprop.gradcheck import check_gradients, numerical_gradient, relative_error
from backprop.layers import Dense
from backprop.losses import binary_cross_entropy, mse, softmax_cross_entropy
from backprop.optim import SGD, Adam, Momentum, RMSprop
from mutations import MUTATIONS, ROOT


# ------------------------------------------------------------------ the table itself

def test_there_are_at_least_15_mutations_with_distinct_ids():
    assert len(MUTATIONS) >= 15
    assert len({m.id for m in MUTATIONS}) == len(MUTATIONS)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_each_mutation_applies_to_exactly_one_place(mutation):
    """A refactor that moves or rewrites a mutated line must fail here, loudly,
    instead of letting the mutation silently do nothing."""
    assert mutation.old != mutation.new
    count = M.occurrences(mutation)
    assert count == 1, (
        f"{mutation.id}: {mutation.old!r} occurs {count} times in "
        f"backprop/{mutation.file}; update tests/mutations.py to the new code")


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_the_chapter_of_each_mutation_shows_that_module(mutation):
    text = (ROOT / "book" / f"{mutation.chapter}.md").read_text()
    shown = re.findall(r"```\{literalinclude\}\s+\.\./backprop/(\S+)", text)
    assert mutation.file in shown, (
        f"{mutation.chapter} does not literalinclude backprop/{mutation.file}")
    for t in mutation.tests:
        assert (ROOT / "tests" / t).is_file(), t


# ------------------------------------------------------------------ the mutations

@pytest.fixture
def copy_dir():
    path = Path(tempfile.mkdtemp(prefix="mutation-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.mutation
@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_mutation_is_caught(mutation, copy_dir):
    copy = M.make_copy(copy_dir, mutation)
    mutated = (copy / "backprop" / mutation.file).read_text()
    assert mutation.new in mutated and mutation.old not in mutated
    # (a) the package tests, in a subprocess, while (b) the chapter runs in a kernel
    handle = M.start_package_tests(copy, mutation.tests)
    try:
        chapter = M.run_chapter(copy, mutation.chapter)
    finally:
        tests = M.finish_package_tests(handle)
    print(f"\n{mutation.id} | backprop/{mutation.file} | "
          f"{', '.join(tests.failed) or 'none'} | {mutation.chapter}: "
          f"{chapter.describe()}")

    # the controls: the unmutated copy passes the same commands
    control = M.control_package_tests(M.all_test_files())
    assert control.returncode == 0, (
        f"the unmutated package fails its tests, so no kill can be judged:\n"
        f"{control.output[-2000:]}")
    assert tests.returncode == 1 and tests.failed, (
        f"mutation {mutation.id} ({mutation.bug}) SURVIVED the package tests "
        f"{mutation.tests}: strengthen them\n{tests.output[-2000:]}")
    known = M.CHAPTER_SURVIVORS.get(mutation.id)
    if known and chapter.failed_cell is None:
        pytest.xfail(f"known weak check: {known}")
    assert not known, (
        f"book/{mutation.chapter}.md now catches {mutation.id}: remove it from "
        f"CHAPTER_SURVIVORS in tests/mutations.py")
    assert chapter.failed_cell is not None, (
        f"mutation {mutation.id} ({mutation.bug}) SURVIVED every cell of "
        f"book/{mutation.chapter}.md: strengthen its check cells")
    broken = M.control_chapter(mutation.chapter, chapter.failed_cell)
    assert broken is None, (
        f"book/{mutation.chapter}.md fails without any mutation at "
        f"{broken.describe() if broken else ''}, so the kill cannot be judged")


# ------------------------------------------------------------------ mutmut survivors
# Direct tests for mutants that survived the fast package tests (see the note on
# issue 11): each one pins behaviour that no other test pinned.


@pytest.mark.parametrize("name", ["tanh", "relu"])
def test_dense_backward_is_the_chain_rule_for_W_b_and_X(name):
    """Dense.backward (dE/dA in) was run by no fast test: any mutation of it
    survived. E = sum(G * A) has dE/dA = G; compare every gradient with
    central differences (relu needs Z, tanh only A)."""
    rng = np.random.default_rng(backprop.SEED)
    layer = Dense(rng.normal(size=(3, 2)), rng.normal(size=2), name)
    X, G = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))

    def energy():
        return float(np.sum(G * layer.forward(X)))

    layer.forward(X)
    assert np.min(np.abs(layer.Z)) > 1e-3          # off ReLU's kink
    dX = layer.backward(G)
    assert dX.shape == X.shape
    fprime = get_activation(name).derivative(layer.Z)
    assert relative_error(layer.delta, G * fprime) < 1e-14
    dW, db = layer.dW.copy(), layer.db.copy()
    for analytic, param in ((dW, layer.W), (db, layer.b), (dX, X)):
        assert relative_error(analytic, numerical_gradient(energy, param)) < 1e-8


def test_dense_takes_an_activation_object_and_checks_its_input():
    tanh = get_activation("tanh")
    layer = Dense(np.zeros((3, 2)), np.zeros(2), tanh)
    assert layer.activation is tanh
    assert repr(layer) == "Dense(3 -> 2, tanh, float64)"
    for bad in (np.zeros(3), np.zeros((2, 2)), np.zeros((1, 2, 3))):
        with pytest.raises(ValueError):
            layer.forward(bad)


def test_the_base_activation_backward_multiplies_by_the_derivative():
    """Every built-in activation overrides backward, so the base class's
    grad_a * f'(z), which a user's subclass inherits, was never run."""
    class Cube(Activation):
        name = "cube"

        def forward(self, z):
            return z ** 3 / 3

        def derivative(self, z):
            return z ** 2

    z, g = np.array([[0.5, -2.0, 3.0]]), np.array([[1.5, 0.25, -2.0]])
    assert np.array_equal(Cube().backward(z, Cube().forward(z), g), g * z ** 2)


def test_relu_keeps_float32_and_has_zero_slope_at_the_kink():
    relu = get_activation("relu")
    z = np.array([[-1.0, 0.0, 2.0]], dtype=np.float32)
    assert relu.derivative(z).dtype == np.float32
    assert np.array_equal(relu.derivative(z), [[0, 0, 1]])
    assert np.array_equal(relu.backward(z, relu.forward(z), np.ones_like(z)),
                          [[0, 0, 1]])


def test_relative_error_below_the_floor_of_one():
    """Gradients of norm 1e-3 are common; a floor of 1 instead of 1e-12 would
    turn the relative error into an absolute one there."""
    a, b = np.array([1e-3, 0.0]), np.array([1e-3, 1e-6])
    expected = 1e-6 / (np.linalg.norm(a) + np.linalg.norm(b))
    assert np.isclose(relative_error(a, b), expected, rtol=1e-12, atol=0)
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0


def test_check_gradients_passes_order_and_picks_the_float32_step():
    rng = np.random.default_rng(backprop.SEED)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    net = MLP([3, 4, 2], hidden="tanh", output="identity", loss="mse",
              seed=backprop.SEED)
    report = check_gradients(net, X, Y, h=1e-3, order=4)
    _, grads = net.loss_and_grads(X, Y)
    grads = [g.copy() for g in grads]
    for name, p, g in zip(net.param_names, net.params, grads):
        num = numerical_gradient(lambda: net.loss(X, Y), p, 1e-3, 4)
        assert report[name] == relative_error(g, num), name
    # float32: the default step is 3e-3, about eps^(1/3); far from 1e-6 or 1
    net32 = MLP([3, 4, 2], hidden="tanh", output="identity", loss="mse",
                seed=backprop.SEED, dtype=np.float32)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    assert check_gradients(net32, X32, Y32) == check_gradients(net32, X32, Y32,
                                                               h=3e-3)


def test_bce_of_certain_correct_predictions_is_zero_without_warnings():
    """p = y = 0 or 1 must give 0 (the 0 log 0 terms are left out), with no
    RuntimeWarning (pytest turns them into errors here)."""
    value, _ = binary_cross_entropy(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]))
    assert value == 0.0


def test_losses_reject_1d_arrays_and_empty_batches():
    for bad in (np.zeros(3), np.zeros((0, 2))):
        with pytest.raises(ValueError):
            mse(bad, bad)
        with pytest.raises(ValueError):
            binary_cross_entropy(bad, bad)
    with pytest.raises(ValueError, match="2-D"):
        softmax_cross_entropy(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="at least one sample"):
        mse(np.zeros((0, 2)), np.zeros((0, 2)))


def test_losses_of_integer_predictions_are_float():
    """Integer predictions are converted to float64, and so are the targets
    (an int dtype would truncate the target 0.5 to 0)."""
    value, grad = mse(np.array([[1, 2]]), np.array([[0.5, 0.5]]))
    assert value == 1.25 and grad.dtype == np.float64
    assert np.array_equal(grad, [[0.5, 1.5]])


def test_cross_entropy_of_a_single_sample():
    z = np.array([[0.0, 1.0, 2.0]])
    value, grad = softmax_cross_entropy(z, np.array([2]))
    p = np.exp(z) / np.exp(z).sum()
    assert np.isclose(value, -np.log(p[0, 2]), rtol=1e-14, atol=0)
    assert np.allclose(grad, p - [0, 0, 1], rtol=1e-14, atol=0)


def test_probability_rows_may_miss_1_by_the_dtypes_tolerance():
    """Rows of target probabilities may sum to 1 within 1e-4 in float32 and
    1e-6 in float64 (PROB_ROW_ATOL), both in the loss and in MLP."""
    def rows(dtype, off):
        return np.array([[0.5, 0.5 + off], [1.0, 0.0]], dtype=dtype)

    net32 = MLP([2, 2], output="softmax", loss="cross_entropy",
                seed=backprop.SEED, dtype=np.float32)
    X32 = np.zeros((2, 2), dtype=np.float32)
    softmax_cross_entropy(np.zeros((2, 2), np.float32), rows(np.float32, 5e-5))
    net32.loss(X32, rows(np.float32, 5e-5))
    softmax_cross_entropy(np.zeros((2, 2)), rows(np.float64, 5e-7))
    for dtype, off in ((np.float32, 1e-3), (np.float64, 5e-5)):
        with pytest.raises(ValueError):
            softmax_cross_entropy(np.zeros((2, 2), dtype), rows(dtype, off))
    with pytest.raises(ValueError):
        net32.loss(X32, rows(np.float32, 1e-3))


def test_mlp_rejects_bce_and_cross_entropy_targets_outside_0_1():
    net = MLP([2, 3, 1], hidden="tanh", output="sigmoid", loss="bce",
              seed=backprop.SEED)
    X = np.zeros((2, 2))
    for Y in ([[1.5], [0.0]], [[-0.5], [1.0]], [[2.5], [0.0]]):
        with pytest.raises(ValueError):
            net.loss_and_grads(X, np.array(Y))
    ce = MLP([2, 2], output="softmax", loss="cross_entropy", seed=backprop.SEED)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):   # rows sum to 1
        ce.loss_and_grads(np.zeros((1, 2)), np.array([[1.5, -0.5]]))


def test_mlp_auto_init_is_he_for_relu_and_xavier_otherwise():
    assert MLP([2, 3, 1], hidden="relu").init == "he"
    assert MLP([2, 3, 1], hidden="tanh").init == "xavier"
    assert MLP([2, 3, 1], hidden="sigmoid").init == "xavier"


def test_mlp_overflow_is_a_value_error_naming_the_layer():
    net = MLP([2, 3, 1], hidden="identity", seed=backprop.SEED)
    net.layers[0].W[...] = 1e200
    net.layers[1].W[...] = 1e200
    X, Y = np.ones((2, 2)), np.ones((2, 1))
    with pytest.raises(ValueError, match=r"Z\[2\].*not finite"):
        net.forward(X)
    with pytest.raises(ValueError, match=r"Z\[2\].*not finite"):
        net.loss_and_grads(X, Y)


def test_float32_network_keeps_float32_with_float64_targets():
    rng = np.random.default_rng(backprop.SEED)
    net = MLP([3, 4, 2], hidden="tanh", output="identity", loss="mse",
              seed=backprop.SEED, dtype=np.float32)
    _, grads = net.loss_and_grads(rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    assert all(g.dtype == np.float32 for g in grads)


def test_predict_thresholds_sigmoid_outputs_at_one_half():
    rng = np.random.default_rng(backprop.SEED)
    X = rng.normal(size=(40, 2)) * 3
    for n_out in (1, 2):
        net = MLP([2, 3, n_out], hidden="tanh", output="sigmoid", loss="bce",
                  seed=backprop.SEED)
        A = net.forward(X)
        labels = net.predict(X)
        expected = (A >= 0.5).astype(np.intp)
        assert labels.dtype.kind == "i"
        assert np.array_equal(labels, expected[:, 0] if n_out == 1 else expected)
        assert 0 < expected.sum() < expected.size   # both classes occur
    # all weights zero: every output is exactly 1/2, which counts as class 1
    net = MLP([2, 3, 1], hidden="tanh", output="sigmoid", loss="bce")
    for p in net.params:
        p[...] = 0
    assert np.array_equal(net.predict(X), np.ones(len(X), dtype=np.intp))


def test_mlp_default_seed_is_the_books_seed():
    a = MLP([2, 3, 1])
    b = MLP([2, 3, 1], seed=backprop.SEED)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))


def test_optimizer_defaults_are_the_documented_ones():
    p = [np.zeros(2)]
    assert SGD(p).lr == 0.1
    m = Momentum(p)
    assert (m.lr, m.mu) == (0.01, 0.9)
    r = RMSprop(p)
    assert (r.lr, r.rho, r.eps) == (1e-3, 0.9, 1e-8)
    a = Adam(p)
    assert (a.lr, a.beta1, a.beta2, a.eps) == (1e-3, 0.9, 0.999, 1e-8)


def test_optimizer_repr():
    assert repr(SGD([np.zeros(2)], lr=0.5)) == "SGD(lr=0.5)"
    assert repr(Adam([np.zeros(2)])) == "Adam(lr=0.001)"


def test_adams_fast_path_refuses_nan_like_step():
    w = [np.ones(3)]
    opt = Adam(w)
    with pytest.raises(ValueError, match="NaN or inf"):
        opt._step_trusted([np.array([1.0, np.nan, 0.0])])
    assert np.array_equal(w[0], np.ones(3)) and opt.t == 0


def test_decay_rates_of_zero_are_allowed():
    """mu, rho and the betas live in [0, 1): 0 is allowed (Momentum with mu = 0
    is SGD)."""
    g = [np.array([1.0, -2.0])]
    w_sgd, w_mom = [np.ones(2)], [np.ones(2)]
    SGD(w_sgd, lr=0.1).step(g)
    Momentum(w_mom, lr=0.1, mu=0.0).step(g)
    assert np.array_equal(w_sgd[0], w_mom[0])
    RMSprop([np.ones(2)], rho=0.0).step(g)
    Adam([np.ones(2)], beta1=0.0, beta2=0.0).step(g)


def _adam_pair(shapes, dtypes, seed):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s).astype(d) for s, d in zip(shapes, dtypes)]
    twin = [p.copy() for p in params]
    return params, twin, rng


@pytest.mark.parametrize("shapes", [[(3, 2), (2,)], [(300, 250), (250,)]],
                         ids=["small", "more-than-one-chunk"])
def test_adams_fast_path_equals_its_step(shapes):
    """fit calls Adam._step_trusted (all parameters at once, in chunks of
    65536 entries); it must give exactly Adam.step's parameters and state."""
    params, twin, rng = _adam_pair(shapes, [np.float64] * len(shapes), 1)
    fast, slow = Adam(params, lr=0.01), Adam(twin, lr=0.01)
    for _ in range(3):
        grads = [rng.normal(size=p.shape) for p in params]
        fast._step_trusted(grads)
        slow.step(grads)
    for p, q in zip(params, twin):
        assert np.array_equal(p, q)
    assert fast.t == slow.t == 3
    for a, b in zip(fast.m + fast.v, slow.m + slow.v):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("replaced", ["m", "v", "m and v"])
def test_adams_fast_path_after_its_moments_are_replaced(replaced):
    """If a user replaces opt.m or opt.v, the fast path must not keep
    updating its own stale buffers."""
    params, twin, rng = _adam_pair([(3, 2), (2,)], [np.float64] * 2, 2)
    fast, slow = Adam(params, lr=0.01), Adam(twin, lr=0.01)
    grads = [rng.normal(size=p.shape) for p in params]
    fast.step(grads)
    slow.step(grads)
    for opt in (fast, slow):
        if "m" in replaced:
            opt.m = [np.full(p.shape, 0.5) for p in params]
        if "v" in replaced:
            opt.v = [np.full(p.shape, 2.0) for p in params]
    for _ in range(2):
        grads = [rng.normal(size=p.shape) for p in params]
        fast._step_trusted(grads)
        slow.step(grads)
    for p, q in zip(params, twin):
        assert np.array_equal(p, q)


def test_adam_on_parameters_of_mixed_dtypes():
    """float32 and float64 parameters: no shared flat buffer, one state array
    per parameter in that parameter's dtype, the same rule."""
    params, twin, rng = _adam_pair([(3, 2), (2,)], [np.float32, np.float64], 3)
    opt = Adam(params, lr=0.01)
    grads = [rng.normal(size=p.shape).astype(p.dtype) for p in params]
    opt.step(grads)
    opt._step_trusted(grads)
    assert [m.dtype for m in opt.m] == [np.float32, np.float64]
    for p, w, g in zip(params, twin, grads):
        w = w.astype(np.float64)
        g = g.astype(np.float64)
        m, v = np.zeros_like(w), np.zeros_like(w)
        for t in (1, 2):
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            w = w - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        tol = 1e-6 if p.dtype == np.float32 else 1e-14
        assert np.allclose(p, w, rtol=tol, atol=tol)
