"""Checkers for the book's coding exercises: feedback, not tracebacks.

A coding exercise asks the reader for a function: a gradient, a backward
rule, a loss. The cell after it calls one checker of this module, which
runs the answer on several random inputs (drawn from generators seeded from
``backprop.SEED``, so the report is the same on every run) and compares it
with central differences (eq-central-diff, the fourth-order stencil) or with
a reference implementation. The checker prints one report and returns a
:class:`CheckResult`, truthy only when the answer is right:

- ``correct``: every trial agrees within ``tol`` (relative error,
  eq-rel-error);
- ``not implemented``: the answer raised ``NotImplementedError`` (the stub
  of the student edition) -- reported as "not implemented yet", never as a
  traceback;
- ``wrong``: a result of the wrong type, shape or dtype, NaN or inf
  entries, an input changed in place, or values that disagree; the report
  says which entries are off and by how much, and names a likely cause when
  it sees one (a constant factor such as a missing 1/N, a transpose);
- ``error``: the answer raised another exception; its type and message are
  reported.

The teacher's check cell asserts the result (``assert check_backward(...)``),
so a wrong solution fails the book build loudly; the student edition, written
by ``tools/make_exercises.py``, drops the ``assert`` so a stub or a wrong
answer only prints its report.

The checkers:

- :func:`check_gradient`: ``grad_f(*xs)`` against central differences of a
  scalar ``f(*xs)``;
- :func:`check_backward`: a backward rule ``backward(G, *xs)`` (a VJP)
  against central differences of ``E = sum(G * forward(*xs))``;
- :func:`check_function`: ``answer(*xs)`` against ``reference(*xs)``;
- :func:`check_value`: ``answer()`` (no arguments) against a value.

``inputs`` is a list of shapes (standard-normal float64 arrays are drawn)
or a function ``rng -> list of arrays`` for inputs that must satisfy a
constraint (positive, probabilities, labels).
"""

from __future__ import annotations

import textwrap

import numpy as np

from . import SEED
from .gradcheck import numerical_gradient, relative_error

__all__ = ["CheckResult", "check_gradient", "check_backward",
           "check_function", "check_value"]

#: how many wrong entries a report lists
_SHOWN = 3


class CheckResult:
    """What a checker found. ``bool(result)`` is True only when correct.

    Attributes: ``name`` (the answer's name), ``status`` (one of
    ``"correct"``, ``"not implemented"``, ``"wrong"``, ``"error"``) and
    ``message`` (the report the checker printed).
    """

    STATUSES = ("correct", "not implemented", "wrong", "error")

    def __init__(self, name: str, status: str, message: str):
        if status not in self.STATUSES:
            raise ValueError(f"status must be one of {self.STATUSES}; "
                             f"got {status!r}")
        self.name, self.status, self.message = name, status, message

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    @property
    def not_implemented(self) -> bool:
        return self.status == "not implemented"

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult({self.name!r}, {self.status!r})"

    def __str__(self) -> str:
        return self.message

    def _ipython_display_(self):
        """Show nothing more in a notebook: the checker printed the report
        (``print(result)`` prints it again)."""


class _Stop(Exception):
    """Raised inside a checker to end it with a result."""

    def __init__(self, status: str, text: str):
        super().__init__(text)
        self.status, self.text = status, text


# ------------------------------------------------------------ arguments
def _name(fn, name) -> str:
    if name is not None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a str; got {type(name).__name__}")
        return name
    return getattr(fn, "__name__", type(fn).__name__)


def _callable(fn, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"{what} must be a function; "
                        f"got {type(fn).__name__}")


def _positive(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number; "
                        f"got {type(value).__name__}")
    if not value > 0:
        raise ValueError(f"{what} must be positive; got {value}")
    return float(value)


def _trials(trials) -> int:
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)):
        raise TypeError(f"trials must be an int; "
                        f"got {type(trials).__name__}")
    if trials < 1:
        raise ValueError(f"trials must be at least 1; got {trials}")
    return int(trials)


def _make_inputs(inputs):
    """A function rng -> list of float64 arrays, from ``inputs``."""
    if callable(inputs):
        def draw(rng):
            xs = inputs(rng)
            if isinstance(xs, np.ndarray):
                xs = [xs]
            return [np.array(x, dtype=np.float64) for x in xs]
        return draw
    if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
        raise TypeError("inputs must be a list of shapes or a function "
                        f"rng -> arrays; got {type(inputs).__name__}")
    shapes = []
    for shape in inputs:
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        try:
            dims = tuple(int(n) for n in shape)
        except TypeError as err:
            raise TypeError(f"each shape must be a tuple of ints; "
                            f"got {shape!r}") from err
        if any(n < 1 for n in dims):
            raise ValueError(f"shapes must have positive sizes; got {shape}")
        shapes.append(dims)
    if not shapes:
        raise ValueError("inputs must name at least one input")
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def _wrt(wrt, count: int) -> tuple[int, ...]:
    """The indices of the inputs a gradient is for (None: all)."""
    if wrt is None:
        return tuple(range(count))
    items = (wrt,) if isinstance(wrt, (int, np.integer)) else tuple(wrt)
    for i in items:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"wrt must be an int or a tuple of ints; "
                            f"got {wrt!r}")
        if not 0 <= i < count:
            raise ValueError(f"wrt names input {i}; there are {count}")
    if not items or len(set(items)) != len(items):
        raise ValueError(f"wrt must name distinct inputs; got {wrt!r}")
    return tuple(int(i) for i in items)


def _generators(trials: int, seed_offset: int):
    return [np.random.default_rng(SEED + seed_offset + k)
            for k in range(trials)]


# ------------------------------------------------------------ running
def _call(fn, args, what: str):
    """Call the reader's ``fn``; turn its failures into a _Stop."""
    copies = [np.array(a, copy=True) for a in args]
    try:
        out = fn(*copies)
    except NotImplementedError as err:
        note = f" ({err})" if str(err) else ""
        raise _Stop("not implemented", f"not implemented yet{note}.")
    except Exception as err:  # the reader's code: report, do not crash
        raise _Stop("error", f"{what} raised {type(err).__name__}: {err}")
    for i, (a, c) in enumerate(zip(args, copies)):
        if c.shape != a.shape or not np.array_equal(a, c):
            raise _Stop("wrong", f"{what} changed its argument {i + 1} in "
                        "place; compute a new array instead.")
    return out


def _scalar(value, what: str) -> float:
    """``value`` as one float; _Stop when it is not one number."""
    if np.ndim(value) != 0:
        raise _Stop("wrong", f"{what} must return one number (E); it "
                    f"returned {_kind(value)}.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _Stop("wrong", f"{what} returned {_kind(value)}, not a "
                    "number.")


def _as_results(out, count: int, what: str) -> list:
    """The answer's return value as a list of ``count`` results."""
    if count > 1:
        if not isinstance(out, (tuple, list)):
            raise _Stop("wrong", f"{what} returned {_kind(out)}; expected "
                        f"a tuple of {count} arrays, one per input.")
        if len(out) != count:
            raise _Stop("wrong", f"{what} returned {len(out)} arrays; "
                        f"expected {count}, one per input.")
        return list(out)
    if isinstance(out, (tuple, list)) and len(out) == 1:
        return [out[0]]
    return [out]


def _kind(x) -> str:
    if x is None:
        return "None (a missing return?)"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    return f"a {type(x).__name__}"


def _compare(got, want, label: str, tol: float, dtype) -> float:
    """Relative error of ``got`` against ``want``; _Stop when wrong."""
    want = np.asarray(want)
    if got is None or isinstance(got, (str, bytes, dict, set)):
        raise _Stop("wrong", f"{label} is {_kind(got)}; expected an array "
                    f"of shape {want.shape}.")
    try:
        arr = np.asarray(got)
    except Exception:
        raise _Stop("wrong", f"{label} is {_kind(got)}, not an array.")
    if arr.dtype.kind not in "biuf":
        raise _Stop("wrong", f"{label} has dtype {arr.dtype}; expected "
                    "real numbers.")
    if arr.shape != want.shape:
        hint = ""
        if arr.ndim == 2 and arr.shape[::-1] == want.shape:
            hint = " It looks transposed."
        elif arr.size == want.size:
            hint = " Same number of entries: a reshape or a wrong axis?"
        elif arr.ndim == want.ndim:
            hint = " A sum or mean over the wrong axis?"
        elif want.ndim < arr.ndim:
            hint = " Is a sum over an axis missing?"
        raise _Stop("wrong", f"{label} has shape {arr.shape}; expected "
                    f"{want.shape}.{hint}")
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise _Stop("wrong", f"{label} has dtype {arr.dtype}; expected "
                    f"{np.dtype(dtype).name}.")
    arr = arr.astype(np.float64)
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.argwhere(~finite)
        raise _Stop("wrong", f"{label} holds {len(bad)} NaN or inf "
                    f"entries, the first at index {_index(bad[0])}.")
    err = relative_error(arr, want) if arr.size else 0.0
    if err > tol:
        raise _Stop("wrong", _mismatch(arr, want, label, err, tol))
    return err


def _index(idx) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def _mismatch(got, want, label: str, err: float, tol: float) -> str:
    """Which entries of ``got`` are off, by how much, and a likely cause."""
    diff = np.abs(got - want)
    scale = max(float(np.abs(want).max()), 1e-12)
    off = diff > tol * scale
    lines = [f"{label} is wrong: relative error {err:.2g} (tolerance "
             f"{tol:.0e}); {int(off.sum())} of {got.size} entries differ."]
    order = np.argsort(diff, axis=None)[::-1][:_SHOWN]
    for flat in order:
        if not off.reshape(-1)[flat]:
            break
        idx = np.unravel_index(flat, got.shape)
        lines.append(f"  at {_index(idx)}: got {got[idx]:.6g}, expected "
                     f"{want[idx]:.6g} (off by {got[idx] - want[idx]:.3g})")
    hint = _cause(got, want)
    if hint:
        lines.append(f"  {hint}")
    return "\n".join(lines)


def _cause(got, want) -> str:
    """A likely cause of a mismatch, when one is plain to see."""
    ww = float(np.vdot(want, want))
    if ww > 0:
        c = float(np.vdot(got, want)) / ww
        if c != 0 and relative_error(got, c * want) < 1e-6:
            if abs(c - round(c)) < 1e-6 and round(c) > 1:
                return (f"Your result is {round(c)} times the right one: a "
                        f"missing 1/{round(c)} (a mean, not a sum)?")
            if abs(1 / c - round(1 / c)) < 1e-6 and round(1 / c) > 1:
                return (f"Your result is 1/{round(1 / c)} of the right one: "
                        "an extra division?")
            if abs(c + 1) < 1e-6:
                return "Your result has the wrong sign."
            return f"Your result is {c:.4g} times the right one."
    if (got.ndim == 2 and got.shape[0] == got.shape[1]
            and relative_error(got.T, want) < 1e-6):
        return "Your result is the transpose of the right one."
    return ""


def _report(name: str, run, passed: str) -> CheckResult:
    """Run ``run()`` and print one report: ``passed`` or what went wrong."""
    try:
        run()
    except _Stop as stop:
        status, text = stop.status, stop.text
    else:
        status, text = "correct", passed
    mark = {"correct": "correct", "not implemented": "not yet",
            "wrong": "WRONG", "error": "ERROR"}[status]
    first, *rest = text.split("\n")
    head = f"{name}: {first}" if status == "not implemented" \
        else f"{name}: {mark}. {first}"
    head = textwrap.fill(head, 79, subsequent_indent="  ",
                         break_on_hyphens=False)
    message = "\n".join([head] + rest)
    print(message)
    return CheckResult(name, status, message)


# ------------------------------------------------------------ checkers
def check_gradient(f, grad_f, inputs, *, wrt=None, name=None, trials=3,
                   tol=1e-6, h=1e-4, dtype=np.float64):
    """Check ``grad_f(*xs)`` against central differences of ``f(*xs)``.

    ``f`` returns a scalar; ``grad_f`` returns its gradient with respect to
    each input (an array of that input's shape; a tuple of them when there
    are several inputs). ``wrt`` (an int or a tuple of ints) names the
    inputs the gradient is for, when not all of them. Each of ``trials``
    draws of ``inputs`` (a list of shapes, or ``rng -> arrays``) is
    compared with the fourth-order central difference (step ``h``),
    relative error (eq-rel-error) below ``tol``.
    The gradient must have ``dtype`` (None: any real dtype). Prints a
    report and returns a :class:`CheckResult`.
    """
    _callable(f, "f")
    _callable(grad_f, "grad_f")
    name = _name(grad_f, name)
    draw, trials = _make_inputs(inputs), _trials(trials)
    tol, h = _positive(tol, "tol"), _positive(h, "h")

    def run():
        fname = _name(f, None)
        for rng in _generators(trials, 101):
            xs = draw(rng)
            which = _wrt(wrt, len(xs))
            grads = _as_results(_call(grad_f, xs, name), len(which), name)
            for i, g in zip(which, grads):
                work = [np.array(v) for v in xs]
                num = numerical_gradient(
                    lambda: _scalar(_call(f, work, fname), fname),
                    work[i], h, order=4)
                _compare(g, num, _label(name, i, len(xs), xs), tol, dtype)

    return _report(name, run, f"It matches central differences on {trials} "
                   f"random inputs (relative error below {tol:.0e}).")


def check_backward(forward, backward, inputs, *, wrt=None, name=None,
                   trials=3, tol=1e-6, h=1e-4, dtype=np.float64):
    """Check a backward rule ``backward(G, *xs)`` of ``y = forward(*xs)``.

    The rule returns dE/dx for each input (eq-vjp-chain): one array of x's
    shape, or a tuple with one per input (per input named by ``wrt``, an
    int or a tuple of ints, when not all of them). Each trial draws the
    inputs and an upstream gradient G of y's shape, sets E = sum(G * y), so
    that dE/dy = G, and compares each returned array with the fourth-order
    central difference of E (step ``h``), relative error below ``tol``.
    Prints a report and returns a :class:`CheckResult`.
    """
    _callable(forward, "forward")
    _callable(backward, "backward")
    name = _name(backward, name)
    draw, trials = _make_inputs(inputs), _trials(trials)
    tol, h = _positive(tol, "tol"), _positive(h, "h")

    def run():
        fname = _name(forward, None)
        for rng in _generators(trials, 202):
            xs = draw(rng)
            G = rng.standard_normal(np.shape(_call(forward, xs, fname)))
            out = _call(backward, [G] + xs, name)
            which = _wrt(wrt, len(xs))
            grads = _as_results(out, len(which), name)
            for i, g in zip(which, grads):
                work = [np.array(v) for v in xs]
                num = numerical_gradient(
                    lambda: float(np.sum(G * _call(forward, work, fname))),
                    work[i], h, order=4)
                _compare(g, num, _label(name, i, len(xs), xs), tol, dtype)

    return _report(name, run, f"It matches central differences on {trials} "
                   f"random inputs (relative error below {tol:.0e}).")


def check_function(answer, reference, inputs, *, name=None, trials=3,
                   tol=1e-10, dtype=None):
    """Check ``answer(*xs)`` against ``reference(*xs)`` on random inputs.

    Both return an array (or a tuple of arrays of the same length); each
    result must have the reference's shape, ``dtype`` if given, and a
    relative error (eq-rel-error) below ``tol``. Prints a report and
    returns a :class:`CheckResult`.
    """
    _callable(answer, "answer")
    _callable(reference, "reference")
    name = _name(answer, name)
    draw, trials = _make_inputs(inputs), _trials(trials)
    tol = _positive(tol, "tol")

    def run():
        for rng in _generators(trials, 303):
            xs = draw(rng)
            want = reference(*[np.array(x) for x in xs])
            many = isinstance(want, (tuple, list))
            wants = list(want) if many else [want]
            gots = _as_results(_call(answer, xs, name), len(wants), name)
            for i, (g, w) in enumerate(zip(gots, wants)):
                label = f"{name}'s result {i + 1}" if many \
                    else f"{name}'s result"
                _compare(g, w, label, tol, dtype)

    return _report(name, run, f"It agrees with the reference on {trials} "
                   f"random inputs (relative error below {tol:.0e}).")


def check_value(answer, expected, *, name=None, tol=1e-10, dtype=None):
    """Check ``answer()``, a function of no arguments, against ``expected``.

    For exercises whose answer is one number or array (the result of an
    experiment): the answer lives in a function so that the student
    edition's stub raises only when the check calls it. Prints a report
    and returns a :class:`CheckResult`.
    """
    _callable(answer, "answer")
    name = _name(answer, name)
    tol = _positive(tol, "tol")
    want = np.asarray(expected, dtype=np.float64)
    if not np.all(np.isfinite(want)):
        raise ValueError("expected must be finite")

    def run():
        _compare(_call(answer, [], name), want, f"{name}'s result", tol,
                 dtype)

    return _report(name, run, f"It equals the expected value (relative "
                   f"error below {tol:.0e}).")


def _label(name: str, i: int, count: int, xs) -> str:
    if count == 1:
        return f"{name}'s gradient"
    return f"{name}'s gradient for input {i + 1} (shape {xs[i].shape})"
