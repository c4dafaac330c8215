"""Optimizers: backpropagation computes the gradient, the optimizer decides
the step.

An optimizer is built on a list of parameter arrays (``net.params``) and
updates them **in place** from a list of gradients aligned with them. Any
state (velocity, moment estimates, step count) lives in the optimizer, one
array per parameter.

Update rules for one parameter w with gradient g (t counts steps from 1):

* ``SGD``:       w <- w - lr g                                    (eq-sgd)
* ``Momentum``:  v <- mu v - lr g;  w <- w + v                    (eq-momentum)
* ``RMSprop``:   s <- rho s + (1 - rho) g^2;
                 w <- w - lr g / (sqrt(s) + eps)                  (eq-rmsprop)
* ``Adam``:      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
                 m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t);
                 w <- w - lr m_hat / (sqrt(v_hat) + eps)          (eq-adam)

Mini-batch SGD is ``SGD`` fed with gradients of mini-batches (see
:func:`backprop.training.fit`); the rule itself does not change.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator

import numpy as np

from ._validate import check_name


def _check_real(value, name: str, low: float, high: float | None,
                expected: str) -> float:
    """Return ``float(value)`` if it is a real number (not a bool) in the
    stated range.

    ``low`` is exclusive when ``high`` is None (a positive number), inclusive
    otherwise (``high`` is exclusive: the interval [low, high)).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number {expected}; "
                        f"got {value!r}")
    value = float(value)
    inside = value > low if high is None else low <= value < high
    ok = np.isfinite(value) and inside
    if not ok:
        raise ValueError(f"{name} must be {expected}; got {value!r}")
    return value


class Optimizer:
    """Base class: holds the parameters and checks the gradients' shapes."""

    def __init__(self, params, lr: float):
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"params[{i}] must be a floating NumPy "
                                f"array; got {type(p).__name__}")
            if not p.flags.writeable:
                raise ValueError(f"params[{i}] is read-only; the optimizer "
                                 f"updates parameters in place")
        self.lr = _check_real(lr, "learning rate lr", 0.0, None,
                              "a positive finite number")
        self.t = 0

    def _check(self, grads):
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"expected {len(self.params)} gradients (one "
                             f"per parameter); got {len(grads)}")
        checked = []
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if np.shape(g) != p.shape:
                raise ValueError(f"grads[{i}] must have shape {p.shape}; "
                                 f"got {np.shape(g)}")
            if np.asarray(g).dtype.kind not in "biuf":
                raise TypeError(f"grads[{i}] must hold real numbers; got "
                                f"dtype {np.asarray(g).dtype}")
            # checked in the parameter's dtype: 1e39 is finite in float64,
            # inf in float32
            with np.errstate(over="ignore"):
                g = np.asarray(g, dtype=p.dtype)
            if not np.all(np.isfinite(g)):
                raise ValueError(f"grads[{i}] holds NaN or inf (in "
                                 f"{p.dtype}); refusing to update the "
                                 f"parameters")
            checked.append(g)
        return checked

    def step(self, grads) -> None:
        """Update every parameter in place from its gradient."""
        grads = self._check(grads)
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            self._update(i, p, g)

    def _update(self, i, p, g):
        raise NotImplementedError

    def _step_trusted(self, grads) -> None:
        """:meth:`step` for gradients that :func:`backprop.training.fit` got
        from the network being trained (one per parameter, right shapes and
        dtype). Subclasses may override it with a faster, equivalent update
        (Adam does); here it is :meth:`step`."""
        self.step(grads)

    def _updater(self, grads):
        """:meth:`_step_trusted` on ``grads`` as a function of no arguments,
        for fit, which refills the same gradient arrays before each call:
        checks that need not be repeated are done once, here (see Adam)."""
        return functools.partial(self._step_trusted, grads)

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Plain gradient descent: w <- w - lr g (eq-sgd)."""

    def __init__(self, params, lr: float = 0.1):
        super().__init__(params, lr)

    def _update(self, i, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum: v <- mu v - lr g; w <- w + v (eq-momentum).

    Default mu = 0.9.
    """

    def __init__(self, params, lr: float = 0.01, mu: float = 0.9):
        super().__init__(params, lr)
        self.mu = _check_real(mu, "momentum mu", 0.0, 1.0, "in [0, 1)")
        self.v = [np.zeros_like(p) for p in self.params]

    def _update(self, i, p, g):
        v = self.v[i]
        v *= self.mu
        v -= self.lr * g
        p += v


class RMSprop(Optimizer):
    """RMSprop: s <- rho s + (1 - rho) g^2; w <- w - lr g / (sqrt(s) + eps)
    (eq-rmsprop).

    Defaults lr = 1e-3, rho = 0.9, eps = 1e-8.
    """

    def __init__(self, params, lr: float = 1e-3, rho: float = 0.9,
                 eps: float = 1e-8):
        super().__init__(params, lr)
        self.rho = _check_real(rho, "rho", 0.0, 1.0, "in [0, 1)")
        self.eps = _check_real(eps, "eps", 0.0, None,
                               "a positive finite number")
        self.s = [np.zeros_like(p) for p in self.params]

    def _update(self, i, p, g):
        s = self.s[i]
        s *= self.rho
        s += (1 - self.rho) * g * g
        p -= self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam with bias correction (eq-adam; Kingma & Ba 2014).

    Defaults lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 (the paper's).
    """

    def __init__(self, params, lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(params, lr)
        self.beta1 = _check_real(beta1, "beta1", 0.0, 1.0, "in [0, 1)")
        self.beta2 = _check_real(beta2, "beta2", 0.0, 1.0, "in [0, 1)")
        self.eps = _check_real(eps, "eps", 0.0, None,
                               "a positive finite number")
        # m[i], v[i]: the moments of parameter i. When all parameters share
        # a dtype they are views of flat buffers, which fit's update
        # (_step_trusted, below the class) updates all at once.
        self._flat = _FlatState.build(self.params)
        if self._flat is None:
            self.m = [np.zeros_like(p) for p in self.params]
            self.v = [np.zeros_like(p) for p in self.params]
        else:
            self.m, self.v = list(self._flat.m_views), list(self._flat.v_views)

    def _update(self, i, p, g):
        m, v = self.m[i], self.v[i]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def _step_trusted(self, grads) -> None:
        _adam_step_flat(self, grads)       # fit's update, below the class

    def _updater(self, grads):
        return _adam_updater(self, grads)  # the same, checked once


def _flat_base(params, bounds):
    """The 1-D array of which ``params`` are consecutive, C-contiguous
    slices from end to end (offsets ``bounds``), or None."""
    base = params[0].base
    if (not isinstance(base, np.ndarray) or base.ndim != 1
            or base.dtype != params[0].dtype or base.size != bounds[-1]
            or not base.flags.c_contiguous or not base.flags.writeable):
        return None
    address = base.__array_interface__["data"][0]
    for p, start in zip(params, bounds):
        if (p.base is not base or not p.flags.c_contiguous
                or p.__array_interface__["data"][0]
                != address + start * base.itemsize):
            return None
    return base


class _FlatState:
    """Adam's m and v (and scratch buffers) for all parameters, end to end
    in flat arrays; ``m_views[i]`` is the slice of ``m`` shaped like
    parameter i (no copy), and becomes ``opt.m[i]``, so ``step`` and
    ``_step_trusted`` update the same live state (while ``owns`` holds;
    otherwise ``_step_trusted`` hands over to ``step``).
    """

    def __init__(self, params):
        self.shapes = [p.shape for p in params]
        self.bounds = np.cumsum([0] + [p.size for p in params]).tolist()
        dtype = params[0].dtype
        # g: a copy of the gradients (when they are not one flat array
        # already); step: the update; buf: scratch
        self.m, self.v, self.g, self.step, self.buf = (
            np.zeros(self.bounds[-1], dtype) for _ in range(5))
        self.m_views, self.v_views = self.views(self.m), self.views(self.v)
        self.step_views = self.views(self.step)  # the update, per parameter
        self.chunks = self.cut(self.g)
        # the gradients last found to be views of one flat array, and the
        # chunks of that array (see gradient)
        self.given, self.given_base, self.given_chunks = [], None, None
        # the flat array the parameters are consecutive views of (as MLP
        # allocates them), or None: then the update is applied one by one
        self.params, self.p = list(params), _flat_base(params, self.bounds)

    def cut(self, g):
        """(g, m, v, step, buf), with ``g`` the flat gradient, cut into
        chunks of _CHUNK entries, which stay in the CPU cache while the
        update runs over them."""
        return [tuple(a[start:start + _CHUNK]
                      for a in (g, self.m, self.v, self.step, self.buf))
                for start in range(0, self.bounds[-1], _CHUNK)]

    def gradient(self, grads):
        """All gradients as one flat array, and its chunks: the array that
        ``grads`` are consecutive views of, as MLP's backward pass writes
        them (no copy), or else a copy of them in ``g``."""
        if len(grads) == len(self.given) and all(
                map(operator.is_, grads, self.given)):
            return self.given_base, self.given_chunks
        base = _flat_base(grads, self.bounds)
        if (base is not None and base.dtype == self.m.dtype
                and [g.shape for g in grads] == self.shapes
                and not any(base is a for a in (self.m, self.v, self.g,
                                                self.step, self.buf))):
            self.given, self.given_base = list(grads), base
            self.given_chunks = self.cut(base)
            return base, self.given_chunks
        np.concatenate([x.ravel() for x in grads], out=self.g,
                       casting="same_kind")
        return self.g, self.chunks

    @classmethod
    def build(cls, params):
        """The flat state for ``params``, or None if they do not share one
        dtype."""
        if not params or len({p.dtype for p in params}) != 1:
            return None
        return cls(params)

    def views(self, flat):
        """``flat`` cut into arrays shaped like the parameters (views, no
        copies)."""
        return [flat[a:b].reshape(shape)
                for a, b, shape in zip(self.bounds[:-1], self.bounds[1:],
                                       self.shapes)]

    def owns(self, m, v) -> bool:
        """True while opt.m and opt.v are still this state's views (not after
        a user replaced them, nor after copy.deepcopy or pickle, which turn
        views into copies)."""
        # a copy (deepcopy, pickle) copies every view: checking that the
        # first view still looks into this state's buffer covers them all
        return (len(m) == len(self.m_views) and len(v) == len(self.v_views)
                and self.m_views[0].base is self.m
                and self.v_views[0].base is self.v
                and all(map(operator.is_, m, self.m_views))
                and all(map(operator.is_, v, self.v_views)))


# Adam's update as fit runs it (through Adam._step_trusted). Adam._update
# runs about 14 NumPy operations per parameter array; for small layers each
# costs more in call overhead than in arithmetic. Here the same operations
# on the same operands (so the results are bit for bit the same) run on all
# parameters at once, kept end to end in flat buffers whose slices are m[i]
# and v[i]; the gradients, which an MLP's backward pass writes end to end
# into one array, are read from it in place (any others are first copied
# into one); no temporary array is allocated. Large networks are updated in
# chunks of _CHUNK entries, small enough that the dozen passes over a chunk
# stay in the CPU cache (about 10% faster at 270k parameters). It hands
# over to step() when it cannot apply (a subclass changed the rule, m or v
# were replaced, parameters of mixed dtypes) or when a gradient may hold NaN
# or inf (step() then refuses the update with its usual error).
# tests/test_benchmarks.py::test_adam_fast_step_is_bit_identical,
# ::test_adam_reads_a_networks_gradients_without_a_copy and
# tests/test_training.py::test_fit_equals_a_loop_of_public_steps hold it
# equal, bit for bit, to Adam.step.
_CHUNK = 65536


def _adam_step_flat(opt: Adam, grads) -> None:
    if not _flat_update_applies(opt):
        return opt.step(grads)
    # all gradients in one flat array: the network's own (MLP writes them
    # end to end), or a copy
    g_all, chunks = opt._flat.gradient(grads)
    _adam_apply(opt, grads, g_all, chunks, _params_in_one_array(opt))


def _flat_update_applies(opt: Adam) -> bool:
    """True unless a subclass or the instance changed Adam's rule, the
    parameters do not share a dtype, or m or v were replaced."""
    return (opt._flat is not None
            and getattr(opt._update, "__func__", None) is Adam._update
            and getattr(opt.step, "__func__", None) is Optimizer.step
            and opt._flat.owns(opt.m, opt.v))


def _params_in_one_array(opt: Adam) -> bool:
    """Whether the parameters are still the views of one flat array that
    the flat state found (as MLP allocates them)."""
    flat = opt._flat
    return flat.p is not None and all(map(operator.is_, opt.params,
                                          flat.params))


def _adam_apply(opt: Adam, grads, g_all, chunks, in_one: bool) -> None:
    """One Adam step from the gradients ``g_all`` (one flat array, cut into
    ``chunks``), whose checks were done by the caller."""
    # g.g is finite exactly when every entry is (unless a square overflows):
    # a NaN or inf sends the gradients to step(), which refuses them
    if not math.isfinite(np.dot(g_all, g_all)):
        return opt.step(grads)
    opt.t += 1
    _adam_moments_and_step(opt, chunks)
    flat = opt._flat
    if in_one:
        flat.p -= flat.step               # every w at once (see MLP)
        return
    for p, step in zip(opt.params, flat.step_views):
        p -= step                         # w <- w - lr m_hat / (...)


def _adam_updater(opt: Adam, grads):
    """:func:`_adam_step_flat` for one epoch of fit, its checks done once:
    a function of no arguments that updates the parameters from ``grads``,
    the arrays the network's backward pass refills before every call.
    Nothing between two calls (fit runs no user code) can replace m, v, the
    rule, the parameters or the gradient arrays."""
    if not _flat_update_applies(opt):
        return functools.partial(opt.step, grads)
    g_all, chunks = opt._flat.gradient(grads)
    if g_all is opt._flat.g:
        # not one flat array: each step copies them again
        return functools.partial(_adam_step_flat, opt, grads)
    return functools.partial(_adam_apply, opt, grads, g_all, chunks,
                             _params_in_one_array(opt))


def _adam_moments_and_step(opt: Adam, chunks) -> None:
    """Adam's arithmetic on the flat buffers (after ``opt.t += 1``):
    the moments m and v in place, and the update
    lr m_hat / (sqrt(v_hat) + eps) into ``step``, chunk by chunk, in the
    order of operations of :meth:`Adam._update`."""
    # Python floats, which do not upcast a float32 array
    c1, c2 = 1 - opt.beta1 ** opt.t, 1 - opt.beta2 ** opt.t
    for g, m, v, step, buf in chunks:
        v *= opt.beta2
        np.multiply(g, 1 - opt.beta2, out=buf)
        buf *= g
        v += buf                          # v <- b2 v + (1 - b2) g^2
        m *= opt.beta1
        np.multiply(g, 1 - opt.beta1, out=step)
        m += step                         # m <- b1 m + (1 - b1) g
        np.divide(v, c2, out=buf)         # v_hat
        np.sqrt(buf, out=buf)
        buf += opt.eps                    # sqrt(v_hat) + eps
        np.divide(m, c1, out=step)        # m_hat
        step *= opt.lr
        step /= buf                       # lr m_hat / (sqrt(v_hat) + eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop,
              "adam": Adam}


def get_optimizer(name: str, params, **kwargs) -> Optimizer:
    """Build an optimizer by name (sgd, momentum, rmsprop, adam) on
    ``params``."""
    cls = OPTIMIZERS[check_name(name, OPTIMIZERS, "optimizer")]
    return cls(params, **kwargs)
