"""Benchmark the backprop package against scikit-learn and PyTorch (CPU),
and case 1 against a hand-written NumPy loop (the limit for NumPy code).

Run from the repository root:

    python benchmarks/run.py                # full run (70 s on 2 busy cores)
    python benchmarks/run.py --quick        # small sizes: tests, smoke runs
    python benchmarks/run.py --json results.json --markdown
    python benchmarks/run.py --cases cnn    # only some cases

Every implementation trains the same architecture with the same optimizer
(Adam), batch size, number of epochs and data. Timings are wall-clock times
of the training loop only (like scikit-learn's ``fit``; no per-epoch
evaluation), measured in alternation (A B C A B C ...) after one warm-up
run of each, so that a burst of load on a shared machine hits every
implementation alike. Ratios are computed pair by pair (the runs of one
round) and summarized by their median. See benchmarks/README.md.

Threads: ``--threads N`` (default 1) is written to OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS *before* NumPy is imported,
enforced again with threadpoolctl (every BLAS/OpenMP pool NumPy, SciPy and
scikit-learn load) and, for PyTorch, with torch.set_num_threads(N) and
torch.set_num_interop_threads(1).
"""

from __future__ import annotations

import argparse
import os
import sys


CASE_NAMES = ("digits", "large", "passes", "finite_differences", "cnn")


def _parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small sizes and few repeats (about 15 s; what the "
                        "tests run)")
    p.add_argument("--json", metavar="PATH",
                   help="write the results as JSON to PATH")
    p.add_argument("--markdown", action="store_true",
                   help="also print the results as a Markdown table (for "
                        "the README)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for every library (default 1)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed runs per case and implementation (default "
                        "5, --quick 2)")
    p.add_argument("--no-torch", action="store_true",
                   help="skip PyTorch even if installed")
    p.add_argument("--cases", nargs="+", metavar="CASE", choices=CASE_NAMES,
                   help="run only these cases, of: " + ", ".join(CASE_NAMES)
                   + " (default all)")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error(f"--threads must be at least 1; got {args.threads}")
    if args.repeats is not None and args.repeats < 1:
        p.error(f"--repeats must be at least 1; got {args.repeats}")
    return args


ARGS = _parse_args()
# Thread counts must be in the environment before NumPy (and its BLAS) is
# imported.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
for _var in THREAD_VARS:
    os.environ[_var] = str(ARGS.threads)

import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import threadpoolctl  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:      # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import backprop  # noqa: E402
import backprop.tensor as T  # noqa: E402
from backprop import MLP  # noqa: E402
from backprop.data import digits  # noqa: E402
from backprop.gradcheck import numerical_gradient  # noqa: E402
from backprop.init import init_weights  # noqa: E402
from backprop.optim import Adam  # noqa: E402
from backprop.training import _train_epoch, accuracy  # noqa: E402

try:
    if ARGS.no_torch:
        raise ImportError("--no-torch")
    import torch
except ImportError as err:
    torch = None
    TORCH_NOTE = f"PyTorch skipped: {err}"
else:
    torch.set_num_threads(ARGS.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:                # only allowed before any parallel work
        pass
    TORCH_NOTE = f"PyTorch {torch.__version__} on the CPU"

SEED = backprop.SEED

# ------------------------------------------------------------------ sizes
# *_reps: calls per timing for the per-call cases 3 and 4 (a timing is their
# total); those cases are cheap, so they run pass_rounds x repeats rounds
# (more pairs, less noise). cnn_epochs: 12 is book/17's choice.
FULL = dict(repeats=5, digits_epochs=50, large_n=10_000, large_test=2_000,
            large_epochs=3, pass_batch=256, pass_reps=50,
            fd_sizes=[8, 16, 4], fd_n=32, fd_reps=3, bp_reps=300,
            pass_rounds=3, cnn_epochs=12)
QUICK = dict(repeats=2, digits_epochs=5, large_n=1_000, large_test=500,
             large_epochs=1, pass_batch=256, pass_reps=3,
             fd_sizes=[4, 6, 3], fd_n=8, fd_reps=2, bp_reps=50,
             pass_rounds=1, cnn_epochs=2)
CFG = dict(QUICK if ARGS.quick else FULL)
if ARGS.repeats is not None:
    CFG["repeats"] = ARGS.repeats


# ------------------------------------------------------------------- data
def large_data(n_train, n_test, seed=SEED):
    """Seeded Gaussian clusters in 784 dimensions, float32 (case 2).

    Ten class centres c_k ~ N(0, 0.2^2 I); a sample of class k is
    c_k + N(0, I). The classes are separable enough that every
    implementation reaches nearly the same test accuracy in 3 epochs, so
    the accuracy column checks that each one trains.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 0.2, size=(10, 784))
    y = rng.integers(0, 10, size=n_train + n_test)
    X = centres[y] + rng.standard_normal((n_train + n_test, 784))
    X = X.astype(np.float32)
    y = y.astype(np.intp)
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


# --------------------------------------------------------------- trainers
# Each trainer builds a fresh, seeded model outside the timed region, then
# returns a function that runs the training loop (timed) and one that scores
# the model.

def backprop_trainer(sizes, dtype, data, epochs, batch_size, lr=1e-3):
    X, Xte, y, yte = data

    def setup():
        net = MLP(sizes, hidden="relu", output="softmax", loss="cross_entropy",
                  seed=SEED, dtype=dtype)
        opt = Adam(net.params, lr=lr)

        def train():
            # fit() without its per-epoch evaluation: check the data once,
            # then the same epochs fit runs (shuffled by a generator seeded
            # like fit's).
            Xc = net._check_X(X)
            yc = net._check_Y(y, Xc.shape[0])
            rng = np.random.default_rng(SEED)
            for _ in range(epochs):
                _train_epoch(net, Xc, yc, opt, rng.permutation(Xc.shape[0]),
                             batch_size)

        train.net = net                  # the tests compare the runs
        return train, lambda: accuracy(net, Xte, yte)
    return setup


def numpy_trainer(sizes, data, epochs, batch_size, lr=1e-3, beta1=0.9,
                  beta2=0.999, eps=1e-8):
    """The reference of case 1: a careful hand-written NumPy loop (no
    package code in the timed region) for a ReLU network with a softmax
    cross-entropy output and Adam, from the package's initial weights, in
    the package's order of mini-batches.

    The parameters, their gradients and Adam's moments are each one flat
    array (the weights and biases are views of it), so Adam updates all of
    them with one NumPy call per operation; the gradients are written into
    their views with ``out=``. It computes no loss value (training does not
    need one) and checks nothing: the limit a NumPy loop reaches."""
    X, Xte, y, yte = data

    def setup():
        ref = MLP(sizes, hidden="relu", output="softmax",
                  loss="cross_entropy", seed=SEED, dtype=X.dtype)
        init = [p for layer in ref.layers for p in (layer.W, layer.b)]
        w = np.concatenate([p.ravel() for p in init])   # all parameters
        g, m, v, buf = (np.zeros_like(w) for _ in range(4))
        ends = np.cumsum([p.size for p in init]).tolist()

        def views(flat):             # [W1, b1, W2, b2, ...] inside flat
            return [flat[e - p.size:e].reshape(p.shape)
                    for p, e in zip(init, ends)]

        params, grads = views(w), views(g)
        Ws, bs, gWs, gbs = params[::2], params[1::2], grads[::2], grads[1::2]
        L = len(Ws)

        def train():
            nonlocal w, g, m, v, buf       # updated in place (w -= g ...)
            rng = np.random.default_rng(SEED)      # the package's order
            n, t = len(y), 0
            for _ in range(epochs):
                order = rng.permutation(n)
                Xs, ys = X[order], y[order]
                for start in range(0, n, batch_size):
                    xb = Xs[start:start + batch_size]
                    yb = ys[start:start + batch_size]
                    # forward: A[l] = relu(A[l-1] W[l] + b[l]), then softmax
                    acts = [xb]
                    for W, b in zip(Ws[:-1], bs[:-1]):
                        z = acts[-1] @ W
                        z += b
                        acts.append(np.maximum(z, 0, out=z))
                    z = acts[-1] @ Ws[-1]
                    z += bs[-1]
                    z -= z.max(axis=1, keepdims=True)
                    delta = np.exp(z, out=z)
                    delta /= delta.sum(axis=1, keepdims=True)
                    # delta[L] = (softmax - one_hot(y)) / N
                    delta[np.arange(len(yb)), yb] -= 1
                    delta /= len(yb)
                    for l in range(L - 1, -1, -1):
                        np.matmul(acts[l].T, delta, out=gWs[l])
                        np.sum(delta, axis=0, out=gbs[l])
                        if l:          # delta[l] = delta[l+1] W^T * relu'
                            delta = delta @ Ws[l].T
                            delta *= acts[l] > 0
                    # Adam (bias-corrected, eps outside the square root),
                    # in the operation order of backprop.optim's flat path
                    t += 1
                    c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
                    v *= beta2
                    np.multiply(g, 1 - beta2, out=buf)
                    buf *= g
                    v += buf                      # b2 v + (1 - b2) g^2
                    m *= beta1
                    g *= 1 - beta1
                    m += g                        # b1 m + (1 - b1) g
                    np.divide(v, c2, out=buf)
                    np.sqrt(buf, out=buf)
                    buf += eps                    # sqrt(v_hat) + eps
                    np.divide(m, c1, out=g)
                    g *= lr
                    g /= buf                      # lr m_hat / (...)
                    w -= g

        def score():
            A = Xte
            for W, b in zip(Ws[:-1], bs[:-1]):
                A = np.maximum(A @ W + b, 0)
            scores = A @ Ws[-1] + bs[-1]     # argmax of softmax = of scores
            return float(np.mean(scores.argmax(axis=1) == yte))

        train.params = params            # the tests compare with the package
        return train, score
    return setup


def sklearn_trainer(hidden, data, epochs, batch_size, lr=1e-3):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, Xte, y, yte = data

    def setup():
        # alpha=0: no L2 penalty (backprop and torch have none); tol=0 and
        # n_iter_no_change > epochs: exactly `epochs` epochs, no early stop.
        clf = MLPClassifier(hidden_layer_sizes=hidden, activation="relu",
                            solver="adam", alpha=0.0, batch_size=batch_size,
                            learning_rate_init=lr, beta_1=0.9, beta_2=0.999,
                            epsilon=1e-8, max_iter=epochs, shuffle=True,
                            random_state=SEED, tol=0.0,
                            n_iter_no_change=epochs + 1,
                            early_stopping=False)

        def train():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)

        return train, lambda: float(clf.score(Xte, yte))
    return setup


def torch_trainer(sizes, dtype, data, epochs, batch_size, lr=1e-3):
    X, Xte, y, yte = data
    tdtype = torch.float32 if dtype == np.float32 else torch.float64

    def setup():
        # the same initial weights as the backprop network (torch stores W
        # transposed)
        ref = MLP(sizes, hidden="relu", output="softmax", loss="cross_entropy",
                  seed=SEED, dtype=dtype)
        layers = []
        for i, layer in enumerate(ref.layers):
            lin = torch.nn.Linear(*layer.W.shape, dtype=tdtype)
            with torch.no_grad():
                lin.weight.copy_(
                    torch.from_numpy(np.ascontiguousarray(layer.W.T)))
                lin.bias.copy_(torch.from_numpy(layer.b))
            layers.append(lin)
            if i < len(ref.layers) - 1:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999),
                               eps=1e-8)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
        loss_fn = torch.nn.CrossEntropyLoss()   # softmax + CE, batch mean

        def train():
            rng = np.random.default_rng(SEED)
            n = Xt.shape[0]
            for _ in range(epochs):
                order = torch.from_numpy(rng.permutation(n))
                Xs, ys = Xt[order], yt[order]
                for start in range(0, n, batch_size):
                    stop = start + batch_size
                    xb, yb = Xs[start:stop], ys[start:stop]
                    opt.zero_grad(set_to_none=True)
                    loss_fn(model(xb), yb).backward()
                    opt.step()

        def score():
            with torch.no_grad():
                pred = model(torch.from_numpy(Xte)).argmax(dim=1).numpy()
            return float(np.mean(pred == yte))

        return train, score
    return setup


# ------------------------------------------------------------------ the CNN
# book/17_convolution.md's digits CNN: conv 3x3 (16 filters, padding 1),
# ReLU, max-pool 2, conv 3x3 (32, padding 1), ReLU, max-pool 2, dense
# 128 -> 10, softmax cross-entropy; float64 (the chapter's dtype); Adam
# with the learning rate and epochs the chapter chose on validation data
# (lr 1e-2, 12 epochs), mini-batches of 64, trained on the whole training
# part of backprop.data.digits() and tested on its test part.
CNN_WIDTHS = (16, 32)
CNN_LR = 1e-2
CNN_BATCH = 64


def cnn_init(seed=SEED, widths=CNN_WIDTHS):
    """[K1, b1, K2, b2, W3, b3] as float64 arrays, drawn as the chapter's
    ``init_cnn`` draws them (He kernels, Glorot dense layer, zero biases).
    """
    gen = np.random.default_rng(seed)
    params, c_in = [], 1
    for f in widths:
        k = init_weights(c_in * 9, f, "he", gen, np.float64)   # (C*9, F)
        params += [np.ascontiguousarray(k.T).reshape(f, c_in, 3, 3),
                   np.zeros(f)]
        c_in = f
    params += [init_weights(widths[-1] * 2 * 2, 10, "xavier", gen,
                            np.float64), np.zeros(10)]
    return params


def as_images(rows):
    """(N, 64) rows -> (N, 1, 8, 8) one-channel images."""
    return rows.reshape(-1, 1, 8, 8)


def cnn_engine(params, images):
    """Class scores (N, 10) by backprop.tensor (the chapter's ``cnn``)."""
    K1, b1, K2, b2, W3, b3 = params
    h = T.max_pool2d(T.conv2d(images, K1, b1, padding=1).relu(), 2)
    h = T.max_pool2d(T.conv2d(h, K2, b2, padding=1).relu(), 2)
    return h.reshape(h.shape[0], -1) @ W3 + b3


def cnn_torch(params, images):
    """The same scores by torch.nn.functional (W3 is (128, 10) as in the
    engine, so the dense layer is a plain matrix product)."""
    F = torch.nn.functional
    K1, b1, K2, b2, W3, b3 = params
    h = F.max_pool2d(F.relu(F.conv2d(images, K1, b1, padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, K2, b2, padding=1)), 2)
    return h.reshape(h.shape[0], -1) @ W3 + b3


def cnn_engine_loss_and_grads(params, images, labels):
    """Loss and gradients of one batch by the engine (for the tests)."""
    ps = [T.Tensor(p.copy(), requires_grad=True) for p in params]
    loss = T.cross_entropy(cnn_engine(ps, images), labels)
    loss.backward()
    return loss.item(), [p.grad for p in ps]


def cnn_torch_loss_and_grads(params, images, labels):
    """Loss and gradients of one batch by PyTorch (for the tests)."""
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    loss = torch.nn.functional.cross_entropy(
        cnn_torch(ps, torch.from_numpy(images)),
        torch.from_numpy(labels.astype(np.int64)))
    loss.backward()
    return loss.item(), [p.grad.numpy() for p in ps]


def cnn_engine_trainer(data, epochs, batch_size=CNN_BATCH, lr=CNN_LR):
    X, Xte, y, yte = data

    def setup():
        params = [T.Tensor(p, requires_grad=True) for p in cnn_init()]
        opt = Adam([p.data for p in params], lr=lr)   # updates .data

        def train():
            # the chapter's train_cnn, without the validation record
            order_rng = np.random.default_rng(SEED)
            images = as_images(X)
            for _ in range(epochs):
                order = order_rng.permutation(len(y))
                for start in range(0, len(y), batch_size):
                    batch = order[start:start + batch_size]
                    loss = T.cross_entropy(cnn_engine(params, images[batch]),
                                           y[batch])
                    T.zero_grad(params)
                    loss.backward()
                    opt.step([p.grad for p in params])

        train.params = params            # the tests compare the two runs

        def score():
            scores = cnn_engine(params, as_images(Xte)).data
            return float(np.mean(scores.argmax(axis=1) == yte))

        return train, score
    return setup


def cnn_torch_trainer(data, epochs, batch_size=CNN_BATCH, lr=CNN_LR):
    X, Xte, y, yte = data
    F = torch.nn.functional

    def setup():
        # the engine's initial arrays, copied; float64 like the engine
        params = [torch.tensor(p, requires_grad=True) for p in cnn_init()]
        opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8)
        images = torch.from_numpy(as_images(X))
        labels = torch.from_numpy(y.astype(np.int64))

        def train():
            order_rng = np.random.default_rng(SEED)   # the engine's order
            for _ in range(epochs):
                order = torch.from_numpy(order_rng.permutation(len(y)))
                for start in range(0, len(y), batch_size):
                    batch = order[start:start + batch_size]
                    opt.zero_grad(set_to_none=True)
                    F.cross_entropy(cnn_torch(params, images[batch]),
                                    labels[batch]).backward()
                    opt.step()

        train.params = params            # the tests compare the two runs

        def score():
            with torch.no_grad():
                scores = cnn_torch(params, torch.from_numpy(as_images(Xte)))
            return float(np.mean(scores.argmax(dim=1).numpy() == yte))

        return train, score
    return setup


# ----------------------------------------------------------------- timing
def alternate(impls: dict, repeats: int) -> dict:
    """Time each implementation ``repeats`` times, in rounds A B C A B C ...

    ``impls`` maps a name to a ``setup()`` returning ``(run, score)``; only
    ``run()`` is timed. One untimed warm-up round comes first. Returns per
    name the list of times (s) and the score of the last run (None if
    ``score`` is None).
    """
    out = {name: {"times": [], "score": None} for name in impls}
    for round_ in range(repeats + 1):
        for name, setup in impls.items():
            run, score = setup()
            t0 = time.perf_counter()
            run()
            elapsed = time.perf_counter() - t0
            if round_ > 0:                       # round 0 is the warm-up
                out[name]["times"].append(elapsed)
                out[name]["score"] = score() if score is not None else None
    return out


def repeated(fn, reps):
    """A setup for :func:`alternate` whose run calls ``fn`` ``reps`` times."""
    def setup():
        return (lambda: [fn() for _ in range(reps)]), None
    return setup


def result(case, impl, times, acc, note=""):
    return {"case": case, "impl": impl, "median_s": statistics.median(times),
            "min_s": min(times), "max_s": max(times),
            "accuracy": None if acc is None else float(acc),
            "repeats": len(times),
            "note": note}


def pair_ratio(num, den):
    """Median, min and max of num[r] / den[r] over rounds r (pairs from one
    round)."""
    r = [a / b for a, b in zip(num, den)]
    return {"median": statistics.median(r), "min": min(r), "max": max(r)}


# ------------------------------------------------------------------ cases
def compare_training(case, key, sizes, dtype, data, epochs, batch, results,
                     ratios, ranges, numpy_loop=False):
    """Train ``sizes`` with Adam in every implementation, alternating;
    record the times, accuracies and the ratios
    ``{key}_backprop_over_sklearn`` / ``_over_torch`` (and
    ``_over_numpy_loop`` with ``numpy_loop``)."""
    impls = {"backprop": backprop_trainer(sizes, dtype, data, epochs, batch)}
    if numpy_loop:
        impls["numpy_loop"] = numpy_trainer(sizes, data, epochs, batch)
    impls["sklearn"] = sklearn_trainer(tuple(sizes[1:-1]), data, epochs,
                                       batch)
    if torch is not None:
        impls["torch"] = torch_trainer(sizes, dtype, data, epochs, batch)
    out = alternate(impls, CFG["repeats"])
    note = (f"{epochs} epochs, batch {batch}, Adam lr 1e-3, "
            f"{len(data[2])} train samples")
    for name, o in out.items():
        results.append(result(case, name, o["times"], o["score"], note))
    for peer in ("numpy_loop", "sklearn", "torch"):
        name = f"{key}_backprop_over_{peer}"
        if peer in out:
            r = pair_ratio(out["backprop"]["times"], out[peer]["times"])
            ratios[name], ranges[name] = r["median"], r


def case_digits(results, ratios, ranges):
    d = digits(dtype=np.float64)
    compare_training("digits_64-64-10_f64", "digits", [64, 64, 10], np.float64,
                     (d.X_train, d.X_test, d.y_train, d.y_test),
                     CFG["digits_epochs"], 64, results, ratios, ranges,
                     numpy_loop=True)


def case_large(results, ratios, ranges):
    compare_training("large_784-256-256-10_f32", "large_f32",
                     [784, 256, 256, 10], np.float32,
                     large_data(CFG["large_n"], CFG["large_test"]),
                     CFG["large_epochs"], 128, results, ratios, ranges)
    # a schema key: null without PyTorch
    ratios.setdefault("large_f32_backprop_over_torch", None)


def case_passes(results, ratios, ranges):
    """Forward only vs forward + backward, batch of 256, case 2's network
    (float32)."""
    batch, reps = CFG["pass_batch"], CFG["pass_reps"]
    X, _, y, _ = large_data(batch, 1)
    net = MLP([784, 256, 256, 10], hidden="relu", output="softmax",
              loss="cross_entropy",
              seed=SEED, dtype=np.float32)
    impls = {"forward": repeated(lambda: net.forward(X), reps),
             "forward_backward": repeated(lambda: net.loss_and_grads(X, y),
                                          reps)}
    rounds = CFG["repeats"] * CFG["pass_rounds"]
    out = alternate(impls, rounds)
    note = (f"per call: {rounds} timings of {reps} calls each, divided by "
            f"{reps}")
    for name, o in out.items():
        results.append(result(f"{name}_batch{batch}_f32", "backprop",
                              [t / reps for t in o["times"]], None, note))
    r = pair_ratio(out["forward_backward"]["times"], out["forward"]["times"])
    key = "forward_backward_over_forward"
    ratios[key], ranges[key] = r["median"], r


def case_finite_differences(results, ratios, ranges):
    """All gradients by central differences (2 losses per parameter) vs one
    backprop."""
    sizes, n = CFG["fd_sizes"], CFG["fd_n"]
    reps, bp_reps = CFG["fd_reps"], CFG["bp_reps"]
    rng = np.random.default_rng(SEED)
    net = MLP(sizes, hidden="tanh", output="softmax", loss="cross_entropy",
              seed=SEED)
    X = rng.standard_normal((n, sizes[0]))
    y = rng.integers(0, sizes[-1], size=n)

    def central_differences():
        return [numerical_gradient(lambda: net.loss(X, y), p)
                for p in net.params]

    calls = {"central_differences": reps, "backprop": bp_reps}
    impls = {"central_differences": repeated(central_differences, reps),
             "backprop": repeated(lambda: net.loss_and_grads(X, y), bp_reps)}
    out = alternate(impls, CFG["repeats"] * CFG["pass_rounds"])
    case = f"gradient_{'-'.join(map(str, sizes))}_n{n}_f64"
    note = (f"{net.n_params} parameters: {2 * net.n_params} loss "
            f"evaluations vs one "
            f"backprop; per call (timings of {reps} and {bp_reps} calls)")
    per_call = {name: [t / calls[name] for t in o["times"]]
                for name, o in out.items()}
    for name, times in per_call.items():
        results.append(result(case, name, times, None, note))
    r = pair_ratio(per_call["central_differences"], per_call["backprop"])
    key = "finite_difference_over_backprop"
    ratios[key], ranges[key] = r["median"], r


def case_cnn(results, ratios, ranges):
    """book/17's digits CNN trained by backprop.tensor and by PyTorch."""
    d = digits(dtype=np.float64)
    data = (d.X_train, d.X_test, d.y_train, d.y_test)
    epochs = CFG["cnn_epochs"]
    impls = {"engine": cnn_engine_trainer(data, epochs)}
    if torch is not None:
        impls["torch"] = cnn_torch_trainer(data, epochs)
    out = alternate(impls, CFG["repeats"])
    note = (f"{epochs} epochs, batch {CNN_BATCH}, Adam lr {CNN_LR:g}, "
            f"{len(d.y_train)} train samples, float64")
    for name, o in out.items():
        results.append(result("cnn_digits_16-32_f64", name, o["times"],
                              o["score"], note))
    key = "cnn_digits_engine_over_torch"
    ratios[key] = None                    # a schema key: null without torch
    if "torch" in out:
        r = pair_ratio(out["engine"]["times"], out["torch"]["times"])
        ratios[key], ranges[key] = r["median"], r


# ----------------------------------------------------------------- output
TARGETS = {  # ratio: (bound, what it means)
    "digits_backprop_over_sklearn": 0.5,
    "digits_backprop_over_numpy_loop": 1.10,
    "large_f32_backprop_over_torch": 1.0,
    "forward_backward_over_forward": 2.5,
    "cnn_digits_engine_over_torch": 2.0,
}


def environment():
    keys = ("user_api", "internal_api", "num_threads", "version")
    pools = [{k: p.get(k) for k in keys}
             for p in threadpoolctl.threadpool_info()]
    import sklearn
    return {
        "threads": ARGS.threads,
        "threads_how": (", ".join(f"{v}={ARGS.threads}" for v in THREAD_VARS)
                        + " set before importing NumPy; "
                        f"threadpoolctl.threadpool_limits({ARGS.threads}); "
                        f"torch.set_num_threads({ARGS.threads}), "
                        "torch.set_num_interop_threads(1)"),
        "thread_pools": pools,
        "quick": ARGS.quick,
        "config": CFG,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs",
        "numpy": np.__version__,
        # the SIMD extensions NumPy dispatches to (with AVX-512 or not) and
        # the variables that restrict them (NumPy's, OpenBLAS's)
        "numpy_simd": numpy_simd(),
        "cpu_restrictions": {k: os.environ[k] for k in (
            "NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE") if k in os.environ},
        "sklearn": sklearn.__version__,
        "torch": None if torch is None else torch.__version__,
        "backprop": backprop.__version__,
        "torch_note": TORCH_NOTE,
        "timing": "wall clock (time.perf_counter) of the training loop "
                  "only; one warm-up round, then rounds in alternation; "
                  "ratios pair by pair per round",
    }


def numpy_simd() -> dict:
    """NumPy's SIMD baseline and the dispatch targets in use ("found", as
    ``np.show_runtime`` reports them: without those the CPU lacks or
    NPY_DISABLE_CPU_FEATURES rules out)."""
    import contextlib
    import io

    try:
        from numpy._core._multiarray_umath import __cpu_baseline__
    except ImportError:                  # another NumPy layout
        return {}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        np.show_runtime()
    found = re.search(r"'found': \[([^\]]*)\]", buf.getvalue())
    return {"baseline": list(__cpu_baseline__),
            "found": re.findall(r"'([^']+)'", found.group(1)) if found else []}


def fmt_ratio(v) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.0f}")


def target_note(k, v) -> str:
    """'' for a ratio without a target, else 'met', 'NOT met' or 'n/a'."""
    if k not in TARGETS:
        return ""
    return "n/a" if v is None else ("met" if v <= TARGETS[k] else "NOT met")


def text_table(report) -> str:
    rows = [f"{'case':<30} {'impl':<20} {'median s':>10} {'min s':>10} "
            f"{'max s':>10} {'accuracy':>9}"]
    for r in report["results"]:
        acc = "" if r["accuracy"] is None else f"{100 * r['accuracy']:.2f}%"
        rows.append(f"{r['case']:<30} {r['impl']:<20} "
                    f"{r['median_s']:>10.4g} {r['min_s']:>10.4g} "
                    f"{r['max_s']:>10.4g} {acc:>9}")
    rows.append("")
    for k, v in report["ratios"].items():
        rng = report["ratio_ranges"].get(k)
        span = (f"  (pairs: {fmt_ratio(rng['min'])} .. "
                f"{fmt_ratio(rng['max'])})" if rng else "")
        target = (f"  target <= {TARGETS[k]}: {target_note(k, v)}"
                  if k in TARGETS and v is not None else "")
        value = "n/a (no PyTorch)" if v is None else fmt_ratio(v)
        rows.append(f"{k:<34} {value}{span}{target}")
    return "\n".join(rows)


def markdown_table(report) -> str:
    lines = ["| case | impl | median (s) | min (s) | max (s) "
             "| test accuracy |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in report["results"]:
        acc = "" if r["accuracy"] is None else f"{100 * r['accuracy']:.2f}%"
        lines.append(f"| {r['case']} | {r['impl']} | {r['median_s']:.4g} "
                     f"| {r['min_s']:.4g} | {r['max_s']:.4g} | {acc} |")
    lines += ["", "| ratio (median of per-round pairs) | value "
                  "| pairs min .. max | target |",
              "| --- | ---: | ---: | --- |"]
    for k, v in report["ratios"].items():
        rng = report["ratio_ranges"].get(k)
        span = (f"{fmt_ratio(rng['min'])} .. {fmt_ratio(rng['max'])}"
                if rng else "")
        ok = target_note(k, v).replace("NOT met", "**not met**")
        target = f"<= {TARGETS[k]}: {ok}" if k in TARGETS else ""
        lines.append(f"| {k} | {fmt_ratio(v)} | {span} | {target} |")
    env = report["environment"]
    lines += ["", f"Threads: {env['threads_how']}. {env['machine']}; "
                  f"Python {env['python']}, NumPy {env['numpy']}, "
                  f"scikit-learn {env['sklearn']}, {env['torch_note']}."]
    return "\n".join(lines)


CASES = dict(zip(CASE_NAMES, (case_digits, case_large, case_passes,
                              case_finite_differences, case_cnn)))


def main():
    results, ratios, ranges = [], {}, {}
    with threadpoolctl.threadpool_limits(limits=ARGS.threads):
        for name, case in CASES.items():
            if ARGS.cases and name not in ARGS.cases:
                continue
            t0 = time.perf_counter()
            case(results, ratios, ranges)
            print(f"[{case.__name__} done in "
                  f"{time.perf_counter() - t0:.1f} s]", file=sys.stderr)
    order = [k for k in ("digits_backprop_over_sklearn",
                         "digits_backprop_over_numpy_loop",
                         "large_f32_backprop_over_torch",
                         "forward_backward_over_forward",
                         "finite_difference_over_backprop",
                         "cnn_digits_engine_over_torch")
             if k in ratios]                  # every one on a full run
    ratios = {**{k: ratios[k] for k in order},
              **{k: v for k, v in ratios.items() if k not in order}}
    report = {"results": results, "ratios": ratios, "ratio_ranges": ranges,
              "targets": TARGETS, "environment": environment()}
    print(TORCH_NOTE)
    print(f"threads: {report['environment']['threads_how']}")
    print(text_table(report))
    if ARGS.markdown:
        print()
        print(markdown_table(report))
    if ARGS.json:
        Path(ARGS.json).write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
