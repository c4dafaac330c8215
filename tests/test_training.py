"""Tests of backprop.training: fit's determinism, batching, history, accuracy, errors.

The reference for full-batch training is a gradient-descent loop written out here
(w <- w - lr dE/dw, eq-sgd), not a call to the optimizer.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from backprop import MLP, SEED
from backprop.data import one_hot, xor
from backprop.optim import SGD, Adam, Momentum, RMSprop
from backprop.training import accuracy, fit

N, N_IN, N_CLASSES = 23, 3, 3


def toy_classification(seed=SEED):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, N_IN))
    y = (X[:, 0] > 0).astype(np.intp) + (X[:, 1] > 0.5)
    return X, y


def classifier(seed=SEED + 1):
    return MLP([N_IN, 5, N_CLASSES], hidden="tanh", output="softmax", loss="cross_entropy", seed=seed)


# --------------------------------------------------------------------------- determinism
def test_fit_is_deterministic_for_a_seed():
    X, y = toy_classification()
    runs = []
    for _ in range(2):
        net = classifier()
        hist = fit(net, X, y, Adam(net.params, lr=0.01), epochs=4, batch_size=5, seed=SEED + 7)
        runs.append((hist, [p.copy() for p in net.params]))
    (h1, p1), (h2, p2) = runs
    assert h1 == h2
    assert all(np.array_equal(a, b) for a, b in zip(p1, p2))
    # a different shuffling seed visits the samples in another order: another result
    net = classifier()
    fit(net, X, y, Adam(net.params, lr=0.01), epochs=4, batch_size=5, seed=SEED + 8)
    assert not all(np.array_equal(a, b) for a, b in zip(p1, net.params))


# --------------------------------------------------------------------------- full batch
@pytest.mark.parametrize("shuffle", [True, False])
def test_full_batch_equals_hand_written_gradient_descent(shuffle):
    X, y = toy_classification()
    lr, epochs = 0.3, 6
    net = classifier()
    hist = fit(net, X, y, SGD(net.params, lr=lr), epochs=epochs, batch_size=None,
               seed=SEED, shuffle=shuffle)
    ref = classifier()
    losses = []
    for _ in range(epochs):
        _, grads = ref.loss_and_grads(X, y)
        for p, g in zip(ref.params, grads):
            p[...] = p - lr * g                       # eq-sgd, by hand
        losses.append(ref.loss(X, y))
    # a shuffled full batch sums the same terms in another order: rounding only
    for a, b in zip(net.params, ref.params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hist["loss"], losses, rtol=1e-12)
    assert losses[-1] < losses[0]


# --------------------------------------------------------------------------- mini-batches
class Recorder:
    """Wraps net.loss_and_grads and records which rows of X each call received."""

    def __init__(self, net, X):
        self.net, self.inner = net, net.loss_and_grads
        self.rows = {X[i].tobytes(): i for i in range(X.shape[0])}
        assert len(self.rows) == X.shape[0]           # rows are distinct
        self.batches = []
        net.loss_and_grads = self

    def __call__(self, Xb, Yb):
        self.batches.append([self.rows[row.tobytes()] for row in np.asarray(Xb)])
        return self.inner(Xb, Yb)


@pytest.mark.parametrize("batch_size", [1, 4, 5, N - 1, N, 100])
def test_minibatches_cover_every_sample_once_per_epoch(batch_size):
    X, y = toy_classification()
    net = classifier()
    rec = Recorder(net, X)
    opt = SGD(net.params, lr=0.05)
    epochs = 3
    fit(net, X, y, opt, epochs=epochs, batch_size=batch_size, seed=SEED)
    per_epoch = math.ceil(N / batch_size)
    assert len(rec.batches) == epochs * per_epoch
    assert opt.t == epochs * per_epoch                # one optimizer step per mini-batch
    orders = []
    for e in range(epochs):
        batches = rec.batches[e * per_epoch:(e + 1) * per_epoch]
        sizes = [len(b) for b in batches]
        full = min(batch_size, N)
        assert sizes == [full] * (N // full) + ([N % full] if N % full else [])
        order = [i for b in batches for i in b]
        assert sorted(order) == list(range(N))        # every sample exactly once
        orders.append(order)
    if batch_size < N:
        assert orders[0] != orders[1]                 # reshuffled every epoch


def test_no_shuffle_visits_samples_in_order():
    X, y = toy_classification()
    net = classifier()
    rec = Recorder(net, X)
    fit(net, X, y, SGD(net.params, lr=0.05), epochs=2, batch_size=6, shuffle=False)
    assert [i for b in rec.batches for i in b] == list(range(N)) * 2


def test_minibatch_sgd_equals_hand_written_loop():
    X, y = toy_classification()
    lr, bs, epochs, seed = 0.1, 6, 2, SEED + 3
    net = classifier()
    fit(net, X, y, SGD(net.params, lr=lr), epochs=epochs, batch_size=bs, seed=seed)
    ref = classifier()
    rng = np.random.default_rng(seed)                 # fit's documented shuffling
    for _ in range(epochs):
        order = rng.permutation(N)
        for start in range(0, N, bs):
            idx = order[start:start + bs]
            _, grads = ref.loss_and_grads(X[idx], y[idx])
            for p, g in zip(ref.params, grads):
                p -= lr * g
    for a, b in zip(net.params, ref.params):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------- history
def test_history_keys_and_lengths_for_a_classifier_with_validation():
    X, y = toy_classification()
    Xv, yv = toy_classification(seed=SEED + 99)
    net = classifier()
    hist = fit(net, X, y, Momentum(net.params, lr=0.05), epochs=5, batch_size=8,
               X_val=Xv, Y_val=yv)
    assert set(hist) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 5 for v in hist.values())
    # the last entries describe the network as it is after training
    assert hist["loss"][-1] == pytest.approx(net.loss(X, y), rel=1e-14)
    assert hist["val_loss"][-1] == pytest.approx(net.loss(Xv, yv), rel=1e-14)
    assert hist["accuracy"][-1] == accuracy(net, X, y)
    assert hist["val_accuracy"][-1] == accuracy(net, Xv, yv)
    assert all(0 <= a <= 1 for a in hist["accuracy"] + hist["val_accuracy"])


def test_history_keys_for_one_hot_targets_equal_those_for_labels():
    X, y = toy_classification()
    net_a, net_b = classifier(), classifier()
    ha = fit(net_a, X, y, SGD(net_a.params, 0.1), epochs=2, batch_size=7, seed=SEED)
    hb = fit(net_b, X, one_hot(y, N_CLASSES), SGD(net_b.params, 0.1), epochs=2, batch_size=7,
             seed=SEED)
    assert set(ha) == set(hb) == {"loss", "accuracy"}
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-12)
    assert ha["accuracy"] == hb["accuracy"]


def test_history_keys_for_regression_and_binary_outputs():
    rng = np.random.default_rng(SEED)
    X = rng.normal(size=(10, 2))
    reg = MLP([2, 4, 1], hidden="tanh", output="identity", loss="mse", seed=SEED)
    h = fit(reg, X, X[:, :1] * 2, SGD(reg.params, 0.1), epochs=3, X_val=X, Y_val=X[:, :1])
    assert set(h) == {"loss", "val_loss"} and len(h["loss"]) == 3   # no accuracy
    Xx, Yx = xor()
    binary = MLP([2, 4, 1], hidden="tanh", output="sigmoid", loss="bce", seed=SEED)
    h = fit(binary, Xx, Yx, Adam(binary.params, 0.05), epochs=2)
    assert set(h) == {"loss", "accuracy"}
    assert h["accuracy"][-1] == accuracy(binary, Xx, Yx[:, 0].astype(np.intp))


def test_zero_epochs_returns_empty_history_and_leaves_the_net_alone():
    X, y = toy_classification()
    net = classifier()
    before = [p.copy() for p in net.params]
    hist = fit(net, X, y, SGD(net.params, 0.1), epochs=0)
    assert hist == {"loss": [], "accuracy": []}
    assert all(np.array_equal(a, b) for a, b in zip(before, net.params))


def test_validation_data_does_not_change_training():
    X, y = toy_classification()
    Xv, yv = toy_classification(seed=SEED + 5)
    net_a, net_b = classifier(), classifier()
    ha = fit(net_a, X, y, Adam(net_a.params, 0.01), epochs=3, batch_size=4, seed=SEED)
    hb = fit(net_b, X, y, Adam(net_b.params, 0.01), epochs=3, batch_size=4, seed=SEED,
             X_val=Xv, Y_val=yv)
    assert ha["loss"] == hb["loss"]
    assert all(np.array_equal(a, b) for a, b in zip(net_a.params, net_b.params))


def test_training_reduces_the_loss_on_xor():
    X, Y = xor()
    net = MLP([2, 4, 1], hidden="tanh", output="sigmoid", loss="bce", seed=SEED)
    hist = fit(net, X, Y, Adam(net.params, lr=0.05), epochs=400, batch_size=None)
    assert hist["loss"][-1] < 0.1 * hist["loss"][0]
    assert hist["accuracy"][-1] == 1.0


# --------------------------------------------------------------------------- accuracy
def test_accuracy_counts_correct_predictions():
    net = MLP([2, 2], hidden="identity", output="softmax", loss="cross_entropy", seed=SEED)
    W, b = net.params
    W[...] = np.eye(2)                 # class = index of the larger input
    b[...] = 0
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0], [5.0, -1.0]])
    # predictions by hand: 0, 1, 0, 1, 0
    assert accuracy(net, X, np.array([0, 1, 0, 1, 0])) == 1.0
    assert accuracy(net, X, np.array([0, 1, 1, 1, 1])) == pytest.approx(3 / 5)
    assert accuracy(net, X, np.array([1, 0, 1, 0, 1])) == 0.0


def test_accuracy_rejects_labels_of_the_wrong_shape():
    net = MLP([2, 2], hidden="identity", output="softmax", loss="cross_entropy", seed=SEED)
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"labels y must have shape \(4,\)"):
        accuracy(net, X, np.array([0, 1, 0]))
    with pytest.raises(ValueError, match=r"labels y must have shape \(4,\)"):
        accuracy(net, X, one_hot(np.array([0, 1, 0, 1]), 2))   # one-hot is not labels
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        accuracy(net, np.ones((4, 3)), np.array([0, 1, 0, 1]))


# --------------------------------------------------------------------------- bad input
def _bad_fit_calls(net, X, y):
    opt = SGD(net.params, lr=0.1)
    other = classifier(seed=SEED + 50)
    return [
        (dict(epochs=-1), ValueError, "epochs"),
        (dict(epochs=2.5), ValueError, "epochs"),
        (dict(epochs=True), ValueError, "epochs"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(batch_size=-3), ValueError, "batch_size"),
        (dict(batch_size=2.0), ValueError, "batch_size"),
        (dict(optimizer="adam"), TypeError, "optimizer must be a backprop.optim.Optimizer"),
        (dict(optimizer=SGD(other.params, 0.1)), ValueError, "this network's live parameters"),
        (dict(optimizer=SGD([p.copy() for p in net.params], 0.1)), ValueError, "live parameters"),
        (dict(X_val=X), ValueError, "both X_val and Y_val"),
        (dict(Y_val=y), ValueError, "both X_val and Y_val"),
        (dict(X_val=X[:, :2], Y_val=y), ValueError, r"X must have shape \(N, 3\)"),
        (dict(X_val=X, Y_val=y[:-1]), ValueError, "labels"),
        (dict(shuffle="yes"), TypeError, "shuffle"),
        (dict(X=X[:, :2]), ValueError, r"X must have shape \(N, 3\)"),
        (dict(Y=y[:-2]), ValueError, "labels"),
        (dict(Y=y + N_CLASSES), ValueError, "must lie in 0..2"),
        (dict(X=np.where(X > 1, np.nan, X)), ValueError, "NaN"),
    ], opt


def test_bad_input_raises_clear_errors_and_leaves_the_net_unchanged():
    X, y = toy_classification()
    net = classifier()
    before = [p.copy() for p in net.params]
    calls, opt = _bad_fit_calls(net, X, y)
    for kw, err, match in calls:
        args = dict(X=X, Y=y, optimizer=opt, epochs=2, batch_size=5)
        args.update(kw)
        with pytest.raises(err, match=match):
            fit(net, **args)
        assert all(np.array_equal(a, b) for a, b in zip(before, net.params)), kw
        assert opt.t == 0


# --------------------------------------------------------------------------- fit's own fast paths
OPTIMIZERS = {"sgd": lambda p: SGD(p, lr=0.1), "momentum": lambda p: Momentum(p, 0.05, 0.9),
              "rmsprop": lambda p: RMSprop(p, lr=0.01), "adam": lambda p: Adam(p, lr=0.01)}
#: (hidden, output, loss, targets): every output/loss pairing, labels and one-hot rows
TASKS = {"ce-labels": ("tanh", "softmax", "cross_entropy", "labels"),
         "ce-onehot": ("relu", "softmax", "cross_entropy", "onehot"),
         "bce": ("sigmoid", "sigmoid", "bce", "binary"),
         "mse-identity": ("relu", "identity", "mse", "real"),
         "mse-softmax": ("tanh", "softmax", "mse", "onehot")}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize("task", list(TASKS))
def test_fit_equals_a_loop_of_public_steps(dtype, opt_name, task):
    """fit trains through net._backprop (loss_and_grads without its checks) and
    optimizer._updater (for Adam: the flat-buffer update, checked once per epoch); the result must be bit
    for bit that of loss_and_grads + optimizer.step, per mini-batch, including the
    optimizer's state. N = 23 rows in batches of 5: the last batch has 3."""
    hidden, output, loss, kind = TASKS[task]
    X, y = toy_classification()
    X = X.astype(dtype)
    Y = {"labels": y, "onehot": one_hot(y, N_CLASSES), "binary": one_hot(y, N_CLASSES),
         "real": X[:, [0, 1, 2]] * 2.0}[kind]
    bs, epochs, seed = 5, 3, SEED + 11

    def build():
        net = MLP([N_IN, 5, N_CLASSES], hidden=hidden, output=output, loss=loss,
                  seed=SEED + 1, dtype=dtype)
        return net, OPTIMIZERS[opt_name](net.params)

    (net, opt), (ref, ref_opt) = build(), build()
    fit(net, X, Y, opt, epochs=epochs, batch_size=bs, seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(N)
        for start in range(0, N, bs):
            idx = order[start:start + bs]
            ref_opt.step(ref.loss_and_grads(X[idx], Y[idx])[1])
    assert opt.t == ref_opt.t == epochs * math.ceil(N / bs)
    for a, b in zip(net.params, ref.params):
        assert a.dtype == b.dtype == dtype
        assert np.array_equal(a, b)
    for state in ("v", "m", "s"):
        for a, b in zip(getattr(opt, state, []), getattr(ref_opt, state, [])):
            assert np.array_equal(a, b), state
    for layer, ref_layer in zip(net.layers, ref.layers):    # the last batch's deltas too
        assert np.array_equal(layer.delta, ref_layer.delta)


def test_fit_refuses_to_continue_when_training_diverges():
    X, Y = xor()
    net = MLP([2, 4, 1], hidden="relu", output="identity", loss="mse", seed=SEED)
    X_big = X * 1e150                       # squares of these overflow to inf
    for opt in (SGD(net.params, lr=1.0), Adam(net.params, lr=1.0)):
        with pytest.raises(ValueError, match="NaN or inf"), np.errstate(all="ignore"):
            fit(net, X_big, Y, opt, epochs=3)


def test_gradients_from_an_overridden_loss_and_grads_are_checked():
    """A subclass's gradients take the checked step, even with Adam's fast path."""
    from backprop.optim import Adam

    class Transposed(MLP):
        def loss_and_grads(self, X, Y):
            value, grads = super().loss_and_grads(X, Y)
            return value, [g.T for g in grads]

    net = Transposed([2, 4, 1], hidden="tanh", output="sigmoid", loss="bce")
    X, Y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0], [0.0]])
    before = [p.copy() for p in net.params]
    with pytest.raises(ValueError, match=r"grads\[0\] must have shape \(2, 4\)"):
        fit(net, X, Y, Adam(net.params), epochs=1)
    assert all(np.array_equal(p, q) for p, q in zip(net.params, before))
