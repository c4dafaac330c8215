"""A small training loop: mini-batches, shuffled with a seed, and a history
of the run."""

from __future__ import annotations

import numpy as np

from .network import MLP
from .optim import Optimizer


def accuracy(net, X, y) -> float:
    """Fraction of samples whose predicted class equals the integer label in
    ``y`` (N,)."""
    y = np.asarray(y)
    pred = net.predict(X)
    if pred.shape != y.shape:
        raise ValueError(f"labels y must have shape {pred.shape} to match "
                         f"the predictions; got {y.shape}")
    return float(np.mean(pred == y))


def _labels(net, Y):
    """Integer labels for accuracy, or None when the task is not
    classification."""
    Y = np.asarray(Y)
    if net.output == "softmax":
        return Y if Y.ndim == 1 else Y.argmax(axis=1)
    if net.output == "sigmoid" and net.sizes[-1] == 1:
        return (Y.reshape(-1) >= 0.5).astype(np.intp)
    return None


def _check_count(value, name: str, low: int) -> None:
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
            or value < low):
        kind = "a positive" if low == 1 else "a non-negative"
        raise ValueError(f"{name} must be {kind} integer"
                         f"{' or None' if name == 'batch_size' else ''}; "
                         f"got {value!r}")


def _train_epoch(net, X, Y, optimizer: Optimizer, order,
                 batch_size: int) -> None:
    """One pass over the samples in ``order``, one optimizer step per
    mini-batch.

    :func:`fit` checked X and Y once, so a mini-batch (a slice of them)
    needs no new check: it goes to ``net._backprop``, which is
    ``net.loss_and_grads`` without the checks (and without the loss value,
    which a step does not need). ``_backprop`` writes the gradients into
    the same arrays every time (``net._grad_views``), so the optimizer's
    update is prepared for them once per epoch (``optimizer._updater``:
    ``step`` without the checks; for Adam, on flat buffers) and then
    called with no arguments. A ``loss_and_grads`` replaced by a subclass
    or on the instance is called as usual, and its gradients then take the
    checked ``step``. NaN or an overflow raises the ValueError that
    ``loss_and_grads`` would raise. benchmarks/run.py times this loop:
    ``fit`` without its evaluation.
    """
    trusted = getattr(net.loss_and_grads, "__func__", None) is (
        MLP.loss_and_grads)
    if trusted:
        update = optimizer._updater(net._grad_views)
    X, Y = X[order], Y[order]      # shuffle once; a mini-batch is then a view
    # overflow raises instead of warning (set once here, not per batch)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for start in range(0, len(order), batch_size):
            X_batch = X[start:start + batch_size]
            Y_batch = Y[start:start + batch_size]
            try:
                if trusted:
                    net._backprop(X_batch, Y_batch)  # fills _grad_views
                    update()
                else:
                    _, grads = net.loss_and_grads(X_batch, Y_batch)
                    optimizer.step(grads)
            except FloatingPointError as err:
                raise net._not_finite(X_batch, Y_batch) from err


def fit(net, X, Y, optimizer: Optimizer, epochs: int = 10,
        batch_size: int | None = None, seed: int = 0, shuffle: bool = True,
        X_val=None, Y_val=None) -> dict:
    """Train ``net`` in place with ``optimizer``; return the run's history.

    Each epoch visits every sample once, in mini-batches of ``batch_size``
    rows (``None``: the whole set, i.e. full-batch gradient descent), in an
    order shuffled by a generator seeded with ``seed``. After each epoch the
    history records the loss on the whole training set (and the validation
    set, if given) and, for classifiers, the accuracy.

    Returns ``{"loss": [...], "accuracy": [...], "val_loss": [...],
    "val_accuracy": [...]}``: lists of length ``epochs``, the accuracy and
    validation keys only where they apply.
    """
    X = net._check_X(X)
    Y = net._check_Y(Y, X.shape[0])
    n = X.shape[0]
    _check_count(epochs, "epochs", 0)
    if batch_size is None:
        batch_size = n
    _check_count(batch_size, "batch_size", 1)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a backprop.optim.Optimizer; "
                        f"got {type(optimizer).__name__}")
    if len(optimizer.params) != len(net.params) or any(
            p is not q for p, q in zip(optimizer.params, net.params)):
        raise ValueError("the optimizer must be built on this network's live "
                         "parameters (e.g. SGD(net.params, lr)); it holds "
                         "other arrays, so training would not change the "
                         "network")
    if (X_val is None) != (Y_val is None):
        raise ValueError("give both X_val and Y_val, or neither")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False; got {shuffle!r}")
    if X_val is not None:
        X_val = net._check_X(X_val)
        Y_val = net._check_Y(Y_val, X_val.shape[0])
    rng = np.random.default_rng(seed)
    y_lab = _labels(net, Y)
    yv_lab = _labels(net, Y_val) if X_val is not None else None
    history = {"loss": []}
    if y_lab is not None:
        history["accuracy"] = []
    if X_val is not None:
        history["val_loss"] = []
        if yv_lab is not None:
            history["val_accuracy"] = []
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        # one optimizer step per mini-batch (loss_and_grads, then step)
        _train_epoch(net, X, Y, optimizer, order, batch_size)
        history["loss"].append(net.loss(X, Y))
        if y_lab is not None:
            history["accuracy"].append(accuracy(net, X, y_lab))
        if X_val is not None:
            history["val_loss"].append(net.loss(X_val, Y_val))
            if yv_lab is not None:
                history["val_accuracy"].append(accuracy(net, X_val, yv_lab))
    return history
