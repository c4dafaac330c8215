"""benchmarks/run.py runs and writes the documented JSON; the fast paths it times
(MLP._backprop without the per-batch checks, Adam._step_trusted, fit's
_train_epoch) compute what the public, checked API computes.

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
                             _softmax_cross_entropy_unchecked, bce_with_logits, mse,
                             softmax_cross_entropy)
from backprop.activations import sigmoid
from backprop.optim import Adam
from backprop.training import fit

ROOT = Path(__file__).resolve().parent.parent
RESULT_KEYS = {"case", "impl", "median_s", "min_s", "max_s", "accuracy"}
RATIO_KEYS = {"digits_backprop_over_sklearn", "large_f32_backprop_over_torch",
              "forward_backward_over_forward", "finite_difference_over_backprop"}
HAS_TORCH = importlib.util.find_spec("torch") is not None


def run_quick(tmp_path, *extra):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                           "--json", str(out), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def check_schema(report, with_torch):
    assert set(report) >= {"results", "ratios"}
    assert set(report["ratios"]) >= RATIO_KEYS
    impls = {r["impl"] for r in report["results"]}
    assert {"backprop", "sklearn"} <= impls
    assert ("torch" in impls) == with_torch
    for r in report["results"]:
        assert set(r) >= RESULT_KEYS, r
        assert isinstance(r["case"], str) and isinstance(r["impl"], str)
        assert 0 < r["min_s"] <= r["median_s"] <= r["max_s"], r
        assert r["accuracy"] is None or 0.0 <= r["accuracy"] <= 1.0, r
    trained = [r for r in report["results"] if r["case"].startswith(("digits", "large"))]
    assert trained and all(r["accuracy"] is not None for r in trained)
    for key, value in report["ratios"].items():
        if key == "large_f32_backprop_over_torch" and not with_torch:
            assert value is None
        else:
            assert isinstance(value, float) and value > 0, (key, value)
    # central differences need 2 loss evaluations per parameter: far slower than backprop
    assert report["ratios"]["finite_difference_over_backprop"] > 1


def test_quick_run_without_torch(tmp_path):
    report, stdout = run_quick(tmp_path, "--no-torch")
    check_schema(report, with_torch=False)
    assert "PyTorch skipped" in stdout and "OPENBLAS_NUM_THREADS=1" in stdout
    assert report["environment"]["threads"] == 1


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is optional (requirements-bench.txt)")
def test_quick_run_with_torch(tmp_path):
    report, _ = run_quick(tmp_path)
    check_schema(report, with_torch=True)


def test_bad_option_is_a_clear_error():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--threads", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--threads must be at least 1" in proc.stderr


# ----------------------------------------------------------- fast paths == public API
RNG = np.random.default_rng(SEED + 50)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unchecked_losses_match_public(dtype):
    tol = 1e-12 if dtype == np.float64 else 1e-5
    z = RNG.normal(size=(9, 4)).astype(dtype)
    y_prob = RNG.dirichlet(np.ones(4), size=9).astype(dtype)
    labels = RNG.integers(0, 4, size=9)
    y01 = RNG.integers(0, 2, size=(9, 4)).astype(dtype)
    softmax = np.exp(z - z.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    pairs = [(_mse_unchecked(z, y_prob), mse(z, y_prob)),
             (_bce_with_logits_unchecked(z, sigmoid(z), y01), bce_with_logits(z, y01)),
             (_softmax_cross_entropy_unchecked(z, softmax, labels), softmax_cross_entropy(z, labels)),
             (_softmax_cross_entropy_unchecked(z, softmax, y_prob), softmax_cross_entropy(z, y_prob))]
    for (v1, g1), (v2, g2) in pairs:
        assert abs(v1 - v2) <= tol * max(1.0, abs(v2))
        assert g1.dtype == g2.dtype == dtype
        np.testing.assert_allclose(g1, g2, rtol=tol, atol=tol)


def test_cross_entropy_kernel_survives_underflowed_probabilities():
    # a gap of 200 between logits: softmax underflows to 0 in float32, the loss must not
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
                                    [(300, 300), (300,), (300, 7), (7,)]])  # > 1 chunk
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
    assert all(np.shares_memory(m, fast._flat.m) for m in fast.m)   # the state is live


def test_adam_fast_step_refuses_nan_like_step():
    p = [np.ones((2, 2))]
    opt = Adam(p, lr=0.1)
    with pytest.raises(ValueError, match="NaN or inf"):
        opt._step_trusted([np.array([[1.0, np.nan], [0.0, 0.0]])])
    assert opt.t == 0 and np.array_equal(p[0], np.ones((2, 2)))


def test_adam_subclass_rule_is_respected_by_fit():
    class HalfAdam(Adam):                    # a changed rule must not be bypassed
        def _update(self, i, p, g):
            super()._update(i, p, 0.5 * g)

    X = RNG.normal(size=(12, 3))
    y = RNG.integers(0, 2, size=12)
    nets = [MLP([3, 4, 2], hidden="tanh", output="softmax", loss="cross_entropy", seed=1)
            for _ in range(2)]
    fit(nets[0], X, y, HalfAdam(nets[0].params, lr=0.05), epochs=2, batch_size=4)
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
    net = MLP([5, 6, 3], hidden="relu", output="softmax", loss="cross_entropy", seed=2, dtype=dtype)
    ref = MLP([5, 6, 3], hidden="relu", output="softmax", loss="cross_entropy", seed=2, dtype=dtype)
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
