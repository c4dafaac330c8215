"""benchmarks/run.py runs and writes the documented JSON; the fast paths it
times (MLP._backprop without the per-batch checks, Adam._step_trusted, fit's
_train_epoch) compute what the public, checked API computes; its CNN case
trains the same network with the engine and with PyTorch.

No timing is asserted here: timings depend on the machine and its load.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backprop import MLP, SEED
from backprop.losses import (_bce_with_logits_unchecked, _mse_unchecked,
                             _softmax_cross_entropy_unchecked,
                             bce_with_logits, mse, softmax_cross_entropy)
from backprop.activations import sigmoid
from backprop.optim import Adam
from backprop.training import fit

ROOT = Path(__file__).resolve().parent.parent
RESULT_KEYS = {"case", "impl", "median_s", "min_s", "max_s", "accuracy"}
TORCH_RATIOS = {"large_f32_backprop_over_torch",
                "cnn_digits_engine_over_torch"}     # null without PyTorch
RATIO_KEYS = {"digits_backprop_over_sklearn",
              "digits_backprop_over_numpy_loop",
              "forward_backward_over_forward",
              "finite_difference_over_backprop", *TORCH_RATIOS}
RUN = str(ROOT / "benchmarks" / "run.py")
HAS_TORCH = importlib.util.find_spec("torch") is not None
NEEDS_TORCH = pytest.mark.skipif(
    not HAS_TORCH, reason="PyTorch is optional (requirements-bench.txt)")


def run_quick(tmp_path, *extra):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, RUN, "--quick", "--json", str(out),
                           *extra],
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def check_schema(report, with_torch):
    assert set(report) >= {"results", "ratios"}
    assert set(report["ratios"]) >= RATIO_KEYS
    impls = {r["impl"] for r in report["results"]}
    assert {"backprop", "numpy_loop", "sklearn", "engine"} <= impls
    assert ("torch" in impls) == with_torch
    for r in report["results"]:
        assert set(r) >= RESULT_KEYS, r
        assert isinstance(r["case"], str) and isinstance(r["impl"], str)
        assert 0 < r["min_s"] <= r["median_s"] <= r["max_s"], r
        assert r["accuracy"] is None or 0.0 <= r["accuracy"] <= 1.0, r
    trained = [r for r in report["results"]
               if r["case"].startswith(("digits", "large", "cnn"))]
    assert trained and all(r["accuracy"] is not None for r in trained)
    cnn = {r["impl"] for r in report["results"] if r["case"].startswith("cnn")}
    assert cnn == ({"engine", "torch"} if with_torch else {"engine"})
    for key, value in report["ratios"].items():
        if key in TORCH_RATIOS and not with_torch:
            assert value is None
        else:
            assert isinstance(value, float) and value > 0, (key, value)
    # central differences need 2 loss evaluations per parameter: far slower
    # than backprop
    assert report["ratios"]["finite_difference_over_backprop"] > 1


def test_quick_run_without_torch(tmp_path):
    report, stdout = run_quick(tmp_path, "--no-torch")
    check_schema(report, with_torch=False)
    assert "PyTorch skipped" in stdout and "OPENBLAS_NUM_THREADS=1" in stdout
    assert report["environment"]["threads"] == 1


@NEEDS_TORCH
def test_quick_run_with_torch(tmp_path):
    report, _ = run_quick(tmp_path)
    check_schema(report, with_torch=True)


def test_bad_option_is_a_clear_error():
    proc = subprocess.run([sys.executable, RUN, "--threads", "0"],
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert "--threads must be at least 1" in proc.stderr
    proc = subprocess.run([sys.executable, RUN, "--cases", "cnnn"],
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "invalid choice: 'cnnn'" in proc.stderr


# ------------------------------------ case 1's NumPy reference == the package
def test_numpy_loop_trains_like_the_package(bench):
    """The hand-written NumPy loop of case 1 (same initial weights, order,
    Adam) ends at the package's weights and test accuracy."""
    from backprop.data import digits
    d = digits()
    data = (d.X_train, d.X_test, d.y_train, d.y_test)
    ours, our_score = bench.backprop_trainer([64, 64, 10], np.float64, data,
                                             3, 64)()
    loop, loop_score = bench.numpy_trainer([64, 64, 10], data, 3, 64)()
    start = [p.copy() for p in loop.params]
    ours()
    loop()
    for p, q, p0 in zip(ours.net.params, loop.params, start, strict=True):
        moved = np.abs(p - p0).max()
        assert moved > 1e-3                       # both did train
        assert np.abs(p - q).max() <= 1e-12 * moved
    assert our_score() == loop_score() > 0.5


# ------------------------------------------- the CNN case: engine == PyTorch
@pytest.fixture(scope="module")
def bench():
    """benchmarks/run.py as a module (it parses sys.argv and sets the
    thread variables on import: both are restored afterwards)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["run.py", "--quick"])
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS"):
            mp.setenv(var, "1")           # restored when the context ends
        spec = importlib.util.spec_from_file_location(
            "bench_run", ROOT / "benchmarks" / "run.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


def chapter_cells(path, *starts):
    """The code cells of a chapter that begin with one of ``starts``."""
    text = (ROOT / "book" / path).read_text()
    cells = [c.split("```", 1)[0]
             for c in text.split("```{code-cell} ipython3\n")[1:]]
    return [c for c in cells if c.startswith(starts)]


def test_cnn_is_the_chapters(bench):
    """The benchmark's CNN, its initialization and its training loop are
    book/17_convolution.md's (run from the chapter's own cells)."""
    from backprop.data import digits
    from backprop.init import init_weights
    from backprop.optim import Adam
    cells = chapter_cells("17_convolution.md", "WIDTHS = ", "BATCH = ")
    assert len(cells) == 2
    ns = {"np": np, "T": bench.T, "Tensor": bench.T.Tensor, "Adam": Adam,
          "init_weights": init_weights, "as_images": bench.as_images}
    for cell in cells:
        exec(cell, ns)
    assert ns["WIDTHS"] == bench.CNN_WIDTHS and ns["BATCH"] == bench.CNN_BATCH
    chapter = ns["init_cnn"](SEED)
    ours = bench.cnn_init()
    for a, b in zip(chapter, ours, strict=True):
        assert np.array_equal(a.data, b)
    d = digits()
    x = bench.as_images(d.X_train[:7])
    assert np.array_equal(ns["cnn"](chapter, x).data,
                          bench.cnn_engine(chapter, x).data)
    # one epoch of the chapter's train_cnn == one of the benchmark's loop
    ns["train_cnn"](chapter, d.X_train, d.y_train, bench.CNN_LR, 1, SEED)
    data = (d.X_train, d.X_test, d.y_train, d.y_test)
    train, _ = bench.cnn_engine_trainer(data, epochs=1)()
    train()
    for a, b, start in zip(chapter, train.params, ours, strict=True):
        assert np.array_equal(a.data, b.data)      # the same loop, bit for bit
        assert not np.array_equal(b.data, start)   # ... that did train


def test_cnn_matches_the_chapter_shapes(bench):
    params = bench.cnn_init()
    assert [p.shape for p in params] == [(16, 1, 3, 3), (16,), (32, 16, 3, 3),
                                         (32,), (128, 10), (10,)]
    assert sum(p.size for p in params) == 6090          # eq-cnn-params
    assert all(p.dtype == np.float64 for p in params)
    x = bench.as_images(np.zeros((3, 64)))
    ps = [bench.T.Tensor(p) for p in params]
    assert bench.cnn_engine(ps, x).shape == (3, 10)


@NEEDS_TORCH
def test_cnn_engine_and_torch_agree_on_one_batch(bench):
    from backprop.data import digits
    d = digits()
    batch = np.random.default_rng(SEED).permutation(len(d.y_train))[:64]
    images, labels = bench.as_images(d.X_train[batch]), d.y_train[batch]
    params = bench.cnn_init()
    e_loss, e_grads = bench.cnn_engine_loss_and_grads(params, images, labels)
    t_loss, t_grads = bench.cnn_torch_loss_and_grads(params, images, labels)
    assert e_loss > 0.1                  # not trained: a real loss to match
    assert abs(e_loss - t_loss) <= 1e-12 * e_loss
    for g_e, g_t in zip(e_grads, t_grads):
        assert g_e.shape == g_t.shape and g_e.dtype == g_t.dtype == np.float64
        assert np.abs(g_e).max() > 0
        np.testing.assert_allclose(g_e, g_t, rtol=1e-9,
                                   atol=1e-12 * np.abs(g_t).max())


@NEEDS_TORCH
def test_cnn_engine_and_torch_train_alike(bench):
    """One epoch of the benchmark's two loops (same initial weights, order
    and Adam hyperparameters) ends at the same weights."""
    from backprop.data import digits
    d = digits()
    data = (d.X_train, d.X_test, d.y_train, d.y_test)
    runs = []
    for trainer in (bench.cnn_engine_trainer, bench.cnn_torch_trainer):
        train, score = trainer(data, epochs=1)()
        train()
        runs.append((train.params, score()))
    (e_params, e_acc), (t_params, t_acc) = runs
    start = bench.cnn_init()
    for p_e, p_t, p0 in zip(e_params, t_params, start):
        p_e, p_t = p_e.data, p_t.detach().numpy()
        moved = np.abs(p_e - p0).max()
        assert moved > 1e-3                          # Adam did move them
        assert np.abs(p_e - p_t).max() <= 1e-9 * moved
    assert abs(e_acc - t_acc) <= 1 / len(d.y_test)


# ------------------------------------------------ fast paths == public API
RNG = np.random.default_rng(SEED + 50)


def loss_inputs(dtype):
    """Logits (9, 4), probability rows, labels, 0/1 targets and softmax(z)."""
    z = RNG.normal(size=(9, 4)).astype(dtype)
    y_prob = RNG.dirichlet(np.ones(4), size=9).astype(dtype)
    labels = RNG.integers(0, 4, size=9)
    y01 = RNG.integers(0, 2, size=(9, 4)).astype(dtype)
    softmax = np.exp(z - z.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    return z, y_prob, labels, y01, softmax


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unchecked_losses_match_public(dtype):
    tol = 1e-12 if dtype == np.float64 else 1e-5
    z, y_prob, labels, y01, softmax = loss_inputs(dtype)
    pairs = [(_mse_unchecked(z, y_prob), mse(z, y_prob)),
             (_bce_with_logits_unchecked(z, sigmoid(z), y01),
              bce_with_logits(z, y01)),
             (_softmax_cross_entropy_unchecked(z, softmax, labels),
              softmax_cross_entropy(z, labels)),
             (_softmax_cross_entropy_unchecked(z, softmax, y_prob),
              softmax_cross_entropy(z, y_prob))]
    for (v1, g1), (v2, g2) in pairs:
        assert abs(v1 - v2) <= tol * max(1.0, abs(v2))
        assert g1.dtype == g2.dtype == dtype
        np.testing.assert_allclose(g1, g2, rtol=tol, atol=tol)


def test_cross_entropy_kernel_survives_underflowed_probabilities():
    # a gap of 200 between logits: softmax underflows to 0 in float32, the
    # loss must not
    z = np.array([[200.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    labels = np.array([1, 2])
    a = np.exp(z - z.max(1, keepdims=True))
    a /= a.sum(1, keepdims=True)
    value, grad = _softmax_cross_entropy_unchecked(z, a, labels)
    ref_value, ref_grad = softmax_cross_entropy(z, labels)
    assert np.isfinite(value) and abs(value - ref_value) < 1e-4 * ref_value
    np.testing.assert_allclose(grad, ref_grad, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes", [[(5, 3), (3,), (3, 2), (2,)],
                                    # the second: > 1 chunk
                                    [(300, 300), (300,), (300, 7), (7,)]])
def test_adam_fast_step_is_bit_identical(dtype, shapes):
    from backprop.optim import _CHUNK
    n_chunks = -(-sum(int(np.prod(s)) for s in shapes) // _CHUNK)   # 1, then 2
    p_slow = [RNG.normal(size=s).astype(dtype) for s in shapes]
    p_fast = [p.copy() for p in p_slow]
    slow, fast = Adam(p_slow, lr=0.01), Adam(p_fast, lr=0.01)
    for _ in range(5):
        grads = [RNG.normal(size=s).astype(dtype) for s in shapes]
        slow.step(grads)
        fast._step_trusted(grads)
    assert fast.t == slow.t == 5 and n_chunks in (1, 2)
    for a, b in zip(p_fast + fast.m + fast.v, p_slow + slow.m + slow.v):
        assert a.dtype == dtype and np.array_equal(a, b)
    # the state is live
    assert all(np.shares_memory(m, fast._flat.m) for m in fast.m)


def test_adam_fast_step_refuses_nan_like_step():
    p = [np.ones((2, 2))]
    opt = Adam(p, lr=0.1)
    with pytest.raises(ValueError, match="NaN or inf"):
        opt._step_trusted([np.array([[1.0, np.nan], [0.0, 0.0]])])
    assert opt.t == 0 and np.array_equal(p[0], np.ones((2, 2)))


def test_adam_subclass_rule_is_respected_by_fit():
    class HalfAdam(Adam):            # a changed rule must not be bypassed
        def _update(self, i, p, g):
            super()._update(i, p, 0.5 * g)

    X = RNG.normal(size=(12, 3))
    y = RNG.integers(0, 2, size=12)
    nets = [MLP([3, 4, 2], hidden="tanh", output="softmax",
                loss="cross_entropy", seed=1) for _ in range(2)]
    fit(nets[0], X, y, HalfAdam(nets[0].params, lr=0.05), epochs=2,
        batch_size=4)
    ref, opt = nets[1], Adam(nets[1].params, lr=0.05)
    rng = np.random.default_rng(0)                      # fit's default seed
    for _ in range(2):
        order = rng.permutation(12)
        for s in range(0, 12, 4):
            _, g = ref.loss_and_grads(X[order[s:s + 4]], y[order[s:s + 4]])
            opt.step([0.5 * x for x in g])
    for a, b in zip(nets[0].params, ref.params):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_with_adam_equals_public_loop(dtype):
    X = RNG.normal(size=(30, 5)).astype(dtype)
    y = RNG.integers(0, 3, size=30)
    net, ref = (MLP([5, 6, 3], hidden="relu", output="softmax",
                    loss="cross_entropy", seed=2, dtype=dtype)
                for _ in range(2))
    fit(net, X, y, Adam(net.params, lr=0.01), epochs=3, batch_size=8, seed=4)
    opt = Adam(ref.params, lr=0.01)
    rng = np.random.default_rng(4)
    for _ in range(3):
        order = rng.permutation(30)
        for s in range(0, 30, 8):
            _, g = ref.loss_and_grads(X[order[s:s + 8]], y[order[s:s + 8]])
            opt.step(g)
    for a, b in zip(net.params, ref.params):
        assert a.dtype == dtype
        assert np.array_equal(a, b)      # the same arithmetic, bit for bit


def test_adam_updates_an_mlps_parameters_in_one_array():
    """MLP allocates W1, b1, ..., bL as views of one flat array, so fit's
    Adam subtracts its step from all of them at once; a replaced parameter
    (or a reordered list) takes the per-parameter update instead, and both
    equal Adam.step bit for bit."""
    from backprop.optim import _flat_base
    X = RNG.normal(size=(20, 4))
    y = RNG.integers(0, 3, size=20)
    grads = [RNG.normal(size=p.shape) for p in MLP([4, 5, 3]).params]
    nets = [MLP([4, 5, 3], hidden="relu", output="softmax",
                loss="cross_entropy", seed=3) for _ in range(3)]
    base = nets[0].params[0].base
    assert base is not None and base.size == nets[0].n_params
    assert all(p.base is base for p in nets[0].params)
    nets[1].layers[1].b = nets[1].layers[1].b.copy()     # no longer a view
    opts = [Adam(net.params, lr=0.01) for net in nets]
    assert opts[0]._flat.p is base and opts[1]._flat.p is None
    assert _flat_base(nets[0].params[::-1], opts[0]._flat.bounds) is None
    for _ in range(3):
        opts[0]._step_trusted(grads)
        opts[1]._step_trusted(grads)
        opts[2].step(grads)
    for a, b, c in zip(*(net.params for net in nets)):
        assert np.array_equal(a, c) and np.array_equal(b, c)
    # fit (flat path) == a loop of public steps
    fit(nets[0], X, y, opts[0], epochs=2, batch_size=8, seed=5)
    rng = np.random.default_rng(5)
    for _ in range(2):
        order = rng.permutation(20)
        for s in range(0, 20, 8):
            _, g = nets[2].loss_and_grads(X[order[s:s + 8]],
                                          y[order[s:s + 8]])
            opts[2].step(g)
    for a, c in zip(nets[0].params, nets[2].params):
        assert np.array_equal(a, c)


# --------------------- fit's step: no loss value, gradients in one buffer
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernels_without_the_value_give_the_same_gradient(dtype):
    """fit asks the loss kernels for the gradient only (with_value=False);
    it must be the gradient they return with the value, bit for bit."""
    z, y_prob, labels, y01, softmax = loss_inputs(dtype)
    calls = [(_mse_unchecked, (z, y_prob)),
             (_bce_with_logits_unchecked, (z, sigmoid(z), y01)),
             (_softmax_cross_entropy_unchecked, (z, softmax, labels)),
             (_softmax_cross_entropy_unchecked, (z, softmax, y_prob))]
    for kernel, args in calls:
        value, grad = kernel(*args)
        no_value, same_grad = kernel(*args, with_value=False)
        assert isinstance(value, float) and no_value is None
        assert same_grad.dtype == grad.dtype == dtype
        assert np.array_equal(same_grad, grad)


def test_mlp_writes_its_gradients_into_one_flat_array():
    """The backward pass writes dW1, db1, ..., dbL into views of one flat
    array (net._grad), end to end like the parameters; loss_and_grads
    returns copies, which the next pass does not overwrite; and the
    gradients are those of layers without the buffer, bit for bit."""
    from backprop import Dense
    net = MLP([4, 6, 5, 3], hidden="tanh", output="softmax",
              loss="cross_entropy", seed=7)
    X, y = RNG.normal(size=(8, 4)), RNG.integers(0, 3, size=8)
    value, grads = net.loss_and_grads(X, y)
    live = [g for layer in net.layers for g in (layer.dW, layer.db)]
    assert all(g.base is net._grad for g in live)
    assert np.array_equal(np.concatenate([g.ravel() for g in grads]),
                          net._grad)
    assert not any(np.shares_memory(g, net._grad) for g in grads)
    kept = [g.copy() for g in grads]
    net.loss_and_grads(X[:3], y[:3])                 # another pass
    assert all(np.array_equal(g, k) for g, k in zip(grads, kept))
    # the same network out of layers that make new arrays
    plain = [Dense(layer.W.copy(), layer.b.copy(), layer.activation)
             for layer in net.layers]
    A = X
    for layer in plain:
        A = layer.forward(A)
    _, delta = softmax_cross_entropy(plain[-1].Z, y)
    for i in range(len(plain) - 1, -1, -1):
        grad_A = plain[i].backward_delta(delta)
        if i:
            delta = plain[i - 1].activation.backward(
                plain[i - 1].Z, plain[i - 1].A, grad_A)
    net.loss_and_grads(X, y)
    for layer, ref in zip(net.layers, plain):
        assert layer.dW.base is net._grad and ref.dW.base is None
        assert np.array_equal(layer.dW, ref.dW)
        assert np.array_equal(layer.db, ref.db)


def test_fit_step_skips_the_value_but_not_the_nan_check():
    """_backprop, as fit calls it, returns no loss value and the same
    gradients as loss_and_grads; NaN weights still raise the network's
    error, for every optimizer."""
    from backprop.optim import OPTIMIZERS
    net = MLP([3, 4, 2], hidden="relu", output="softmax",
              loss="cross_entropy", seed=2)
    X, y = RNG.normal(size=(6, 3)), RNG.integers(0, 2, size=6)
    value, grads = net.loss_and_grads(X, y)
    no_value, same = net._backprop(X, y)
    assert isinstance(value, float) and no_value is None
    assert all(np.array_equal(a, b) for a, b in zip(grads, same))
    net.params[2][0, 1] = np.nan
    for name, cls in OPTIMIZERS.items():
        with pytest.raises(ValueError, match="parameters of layer 2 hold"):
            fit(net, X, y, cls(net.params), epochs=1, batch_size=3)


def test_adam_reads_a_networks_gradients_without_a_copy():
    """Gradients that are consecutive views of one flat array (an MLP's)
    are read in place: the update is Adam.step's bit for bit, the
    gradients are left as they were; any other gradients are copied into
    Adam's own buffer first, with the same result."""
    shapes = [(5, 3), (3,), (3, 2), (2,)]
    bounds = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
    flat_g = np.empty(bounds[-1])
    views = [flat_g[a:b].reshape(s)
             for a, b, s in zip(bounds[:-1], bounds[1:], shapes)]
    p_slow = [RNG.normal(size=s) for s in shapes]
    p_fast, p_copy = [p.copy() for p in p_slow], [p.copy() for p in p_slow]
    slow, fast, copied = (Adam(p, lr=0.01) for p in (p_slow, p_fast, p_copy))
    for _ in range(4):
        flat_g[...] = RNG.normal(size=flat_g.size)
        before = flat_g.copy()
        slow.step(views)
        fast._step_trusted(views)
        copied._step_trusted([v.copy() for v in views])
        assert np.array_equal(flat_g, before)         # read, not written
        assert fast._flat.given_base is flat_g
        assert copied._flat.given_base is None
    for a, b, c in zip(p_slow + slow.m + slow.v, p_fast + fast.m + fast.v,
                       p_copy + copied.m + copied.v):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    # views in another order, or of Adam's own state, are copied
    assert fast._flat.gradient(views[::-1])[0] is fast._flat.g
    assert fast._flat.gradient(fast.m)[0] is fast._flat.g


def test_adam_updater_checks_once_and_equals_step():
    """fit prepares Adam's update once per epoch (optimizer._updater) for
    the arrays the network's backward pass refills: it is then a function
    of no arguments with Adam.step's result, bit for bit; it refuses NaN
    with step's message; it takes the checked paths whenever the flat one
    cannot apply (moments replaced, gradients that are not one flat
    array)."""
    from backprop.optim import _adam_apply, _adam_step_flat
    X, y = RNG.normal(size=(9, 4)), RNG.integers(0, 3, size=9)

    def build():
        net = MLP([4, 5, 3], hidden="relu", output="softmax",
                  loss="cross_entropy", seed=SEED)
        return net, Adam(net.params, lr=0.01)

    (net, fast), (ref, slow) = build(), build()
    update = fast._updater(net._grad_views)
    assert update.func is _adam_apply                # the prepared update
    for _ in range(3):
        net._backprop(X, y)
        update()
        slow.step(ref.loss_and_grads(X, y)[1])
    assert fast.t == slow.t == 3
    for a, b in zip(net.params + tuple(fast.m + fast.v),
                    ref.params + tuple(slow.m + slow.v)):
        assert np.array_equal(a, b)
    net._grad_views[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        update()
    assert fast.t == 3 and all(np.isfinite(p).all() for p in net.params)
    copies = [g.copy() for g in net._grad_views]
    assert fast._updater(copies).func is _adam_step_flat
    fast.m = [np.zeros_like(p) for p in net.params]
    assert fast._updater(net._grad_views).func.__func__ is Adam.step
