"""A small training loop: mini-batches, shuffling with a seed, a history of the run."""

from __future__ import annotations

import numpy as np

from .network import MLP
from .optim import Optimizer


def accuracy(net, X, y) -> float:
    """Fraction of samples whose predicted class equals the integer label in ``y`` (N,)."""
    y = np.asarray(y)
    pred = net.predict(X)
    if pred.shape != y.shape:
        raise ValueError(f"labels y must have shape {pred.shape} to match the predictions; got {y.shape}")
    return float(np.mean(pred == y))


def _labels(net, Y):
    """Integer labels for accuracy, or None when the task is not classification."""
    Y = np.asarray(Y)
    if net.output == "softmax":
        return Y if Y.ndim == 1 else Y.argmax(axis=1)
    if net.output == "sigmoid" and net.sizes[-1] == 1:
        return (Y.reshape(-1) >= 0.5).astype(np.intp)
    return None


def _train_epoch(net, X, Y, optimizer: Optimizer, order, batch_size: int) -> None:
    """One pass over the samples in ``order``, one optimizer step per mini-batch.

    X and Y were checked once (by :func:`fit`), so a plain MLP's mini-batches, slices of
    them, go to the unchecked ``net._loss_and_grads`` and ``optimizer._step_trusted``:
    the same arithmetic as ``loss_and_grads`` and ``step`` without scanning every batch
    again. A ``loss_and_grads`` replaced by a subclass or on the instance is called as
    usual, and its gradients then go through the checked ``step``.
    benchmarks/run.py times this loop: ``fit`` without its per-epoch evaluation.
    """
    loss_and_grads, step = net.loss_and_grads, optimizer.step
    if getattr(loss_and_grads, "__func__", None) is MLP.loss_and_grads:
        loss_and_grads, step = net._loss_and_grads, optimizer._step_trusted
    X, Y = X[order], Y[order]      # shuffle once; each mini-batch is then a view
    for start in range(0, len(order), batch_size):
        stop = start + batch_size
        _, grads = loss_and_grads(X[start:stop], Y[start:stop])
        step(grads)


def fit(net, X, Y, optimizer: Optimizer, epochs: int = 10, batch_size: int | None = None,
        seed: int = 0, shuffle: bool = True, X_val=None, Y_val=None) -> dict:
    """Train ``net`` in place with ``optimizer`` and return the history of the run.

    Each epoch visits every sample once, in mini-batches of ``batch_size`` rows
    (``None``: the whole set, i.e. full-batch gradient descent), in an order shuffled by
    a generator seeded with ``seed``. After each epoch the history records the loss on
    the whole training set (and the validation set, if given) and, for classifiers,
    the accuracy.

    Returns ``{"loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...]}``
    (lists of length ``epochs``; the accuracy and validation keys only where they apply).
    """
    X = net._check_X(X)
    Y = net._check_Y(Y, X.shape[0])
    n = X.shape[0]
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer; got {epochs!r}")
    if batch_size is None:
        batch_size = n
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None; got {batch_size!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a backprop.optim.Optimizer; got {type(optimizer).__name__}")
    if len(optimizer.params) != len(net.params) or any(
            p is not q for p, q in zip(optimizer.params, net.params)):
        raise ValueError("the optimizer must be built on this network's live parameters "
                         "(e.g. SGD(net.params, lr)); it holds other arrays, so training "
                         "would not change the network")
    if (X_val is None) != (Y_val is None):
        raise ValueError("give both X_val and Y_val, or neither")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False; got {shuffle!r}")
    if X_val is not None:
        X_val = net._check_X(X_val)
        Y_val = net._check_Y(Y_val, X_val.shape[0])
    rng = np.random.default_rng(seed)
    y_lab, yv_lab = _labels(net, Y), (_labels(net, Y_val) if X_val is not None else None)
    history = {"loss": []}
    if y_lab is not None:
        history["accuracy"] = []
    if X_val is not None:
        history["val_loss"] = []
        if yv_lab is not None:
            history["val_accuracy"] = []
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        # one optimizer step per mini-batch: loss_and_grads, then optimizer.step
        _train_epoch(net, X, Y, optimizer, order, batch_size)
        history["loss"].append(net.loss(X, Y))
        if y_lab is not None:
            history["accuracy"].append(accuracy(net, X, y_lab))
        if X_val is not None:
            history["val_loss"].append(net.loss(X_val, Y_val))
            if yv_lab is not None:
                history["val_accuracy"].append(accuracy(net, X_val, yv_lab))
    return history
