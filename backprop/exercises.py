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
  lists every returned gradient (the right ones marked as right), named by
  the parameters of the reader's function (``dW`` for ``W``), says which
  entries are off and by how much, and names a likely cause when it sees
  one (a constant factor such as a missing 1/N, a transpose, outputs
  returned in the wrong order);
- ``error``: the answer raised another exception; its type and message
  are reported in one line, with the shapes of the arguments it got.

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
- :func:`check_value`: ``answer()`` (no arguments), or a value, against
  the expected value, which a wrong answer's report does not show.

``inputs`` is a list of shapes (standard-normal float64 arrays are drawn)
or a function ``rng -> list of arrays`` for inputs that must satisfy a
constraint (positive, probabilities, labels).
"""

from __future__ import annotations

import inspect
import itertools
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
def _call(fn, args, what: str, names=None):
    """Call the reader's ``fn``; turn its failures into a _Stop.

    ``names`` are the names of ``args`` (the parameters of ``fn``), used
    to say which shapes the function received when it raises.
    """
    copies = [np.array(a, copy=True) for a in args]
    try:
        out = fn(*copies)
    except NotImplementedError as err:
        note = f" ({err})" if str(err) else ""
        raise _Stop("not implemented", f"not implemented yet{note}.")
    except Exception as err:  # the reader's code: report, do not crash
        message = " ".join(str(err).split())  # NumPy's is several lines
        received = ""
        if args:
            names = list(names or [])
            names += [f"input {k + 1}" for k in range(len(names),
                                                      len(args))]
            received = " on arguments " + ", ".join(
                f"{n} {_shape(a)}" for n, a in zip(names, args))
        raise _Stop("error", f"{what} raised {type(err).__name__}"
                    f"{received}: {message}")
    for i, (a, c) in enumerate(zip(args, copies)):
        if c.shape != a.shape or not np.array_equal(a, c):
            which = names[i] if names and i < len(names) \
                else f"argument {i + 1}"
            raise _Stop("wrong", f"{what} changed its argument {which} in "
                        "place; compute a new array instead.")
    return out


def _shape(a) -> str:
    """``(5, 3)`` for an array; ``= 2`` for a number."""
    a = np.asarray(a)
    return str(a.shape) if a.ndim else f"= {a.item()!r}"


def _params(fn, count: int, skip: int = 0):
    """The names of the ``count`` positional parameters of ``fn`` after the
    first ``skip`` ones, or None when its signature does not say."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY,
             inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    names = [p.name for p in params if p.kind in kinds]
    if len(names) < skip + count:
        return None
    return names[skip:skip + count]


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


def _as_results(out, count: int, what: str, names=None) -> list:
    """The answer's return value as a list of ``count`` results
    (``names``: what each one is, for the report)."""
    order = f": ({', '.join(names)}) in that order" if names else \
        ", one per input"
    if count > 1:
        if not isinstance(out, (tuple, list)):
            raise _Stop("wrong", f"{what} returned {_kind(out)}; expected "
                        f"a tuple of {count} arrays{order}.")
        if len(out) != count:
            raise _Stop("wrong", f"{what} returned {len(out)} arrays; "
                        f"expected {count}{order}.")
        return list(out)
    if isinstance(out, (tuple, list)) and len(out) == 1:
        return [out[0]]
    return [out]


def _compare_all(gots, wants, labels, tol: float, dtype, what: str,
                 noun: str = "gradients") -> None:
    """Compare every result with its expected value; when any is wrong,
    _Stop with a report that lists each one, the right ones marked as
    right, or that says the results look swapped."""
    found = []
    for g, w, label in zip(gots, wants, labels):
        try:
            found.append((True, _compare(g, w, label, tol, dtype)))
        except _Stop as stop:
            found.append((False, stop.text))
    bad = sum(not ok for ok, _ in found)
    if not bad:
        return
    if len(wants) > 1:
        perm = _swapped(gots, wants, tol)
        if perm is not None:
            returned = [labels[perm.index(j)] for j in range(len(wants))]
            raise _Stop("wrong", f"The outputs look swapped: expected "
                        f"({', '.join(labels)}) in that order; {what} "
                        f"returned ({', '.join(returned)}).")
    if len(wants) == 1:
        raise _Stop("wrong", found[0][1])
    lines = [f"{bad} of {len(wants)} returned {noun} "
             f"{'is' if bad == 1 else 'are'} wrong:"]
    for (ok, text), label in zip(found, labels):
        if ok:
            text = f"{label} is right (relative error {text:.1g})."
        first, *rest = text.split("\n")
        lines.append(textwrap.fill(first, 79, initial_indent="  ",
                                   subsequent_indent="    ",
                                   break_on_hyphens=False))
        lines += ["  " + r for r in rest]
    raise _Stop("wrong", "\n".join(lines))


def _swapped(gots, wants, tol: float):
    """A permutation p (result p[i] is the expected i-th) other than the
    identity that explains the results, or None: first by values, then,
    when the shapes in the given order are wrong, by shapes alone."""
    m = len(wants)
    if not 2 <= m <= 6:
        return None
    arrs = []
    for g in gots:
        try:
            a = np.asarray(g, dtype=np.float64)
        except (TypeError, ValueError):
            a = None
        arrs.append(a)
    wants = [np.asarray(w) for w in wants]

    def fits(a, w, values):
        if a is None or a.shape != w.shape:
            return False
        if not values:
            return True
        return bool(np.all(np.isfinite(a))) and (
            a.size == 0 or relative_error(a, w) <= tol)

    identity = tuple(range(m))
    for values in (True, False):
        if not values and all(fits(arrs[i], wants[i], False)
                              for i in identity):
            return None  # the shapes are right: nothing to tell by them
        perms = [p for p in itertools.permutations(identity)
                 if p != identity
                 and all(fits(arrs[p[i]], wants[i], values)
                         for i in identity)]
        if perms and (values or len(perms) == 1):
            return perms[0]
    return None


def _kind(x) -> str:
    if x is None:
        return "None (a missing return?)"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    return f"a {type(x).__name__}"


def _compare(got, want, label: str, tol: float, dtype,
             reveal: bool = True) -> float:
    """Relative error of ``got`` against ``want``; _Stop when wrong (the
    report shows expected entries only when ``reveal``)."""
    want = np.asarray(want)
    expected = "one number" if want.ndim == 0 \
        else f"an array of shape {want.shape}"
    if got is None or isinstance(got, (str, bytes, dict, set)):
        raise _Stop("wrong", f"{label} is {_kind(got)}; expected "
                    f"{expected}.")
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
        if want.ndim == 0:
            raise _Stop("wrong", f"{label} is an array of shape "
                        f"{arr.shape}; expected one number.")
        raise _Stop("wrong", f"{label} has shape {arr.shape}; expected "
                    f"{want.shape}.{hint}")
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise _Stop("wrong", f"{label} has dtype {arr.dtype}; expected "
                    f"{np.dtype(dtype).name}.")
    arr = arr.astype(np.float64)
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.argwhere(~finite)
        if arr.ndim == 0:
            raise _Stop("wrong", f"{label} is {arr.item()}, not a finite "
                        "number.")
        raise _Stop("wrong", f"{label} holds {len(bad)} NaN or inf "
                    f"entries, the first at index {_index(bad[0])}.")
    err = relative_error(arr, want) if arr.size else 0.0
    if err > tol:
        if not reveal:
            raise _Stop("wrong", _unrevealed(arr, want, label, tol))
        raise _Stop("wrong", _mismatch(arr, want, label, err, tol))
    return err


def _unrevealed(got, want, label: str, tol: float) -> str:
    """A mismatch reported without the expected value: too large or too
    small (for a number), or how many entries differ."""
    if got.ndim == 0:
        side = "too large" if got > want else "too small"
        return (f"{label}, {got.item():.6g}, is {side} (the check allows a "
                f"relative error of {tol:.0e}).")
    off = np.abs(got - want) > tol * max(float(np.abs(want).max()), 1e-12)
    return (f"{label} is wrong: {int(off.sum())} of {got.size} entries "
            f"differ (tolerance: relative error {tol:.0e}).")


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
            if abs(c - 1) < 1e-3:
                return ("Close, but outside the tolerance: a small term "
                        "(such as eps) in a different place?")
            if abs(c - round(c)) < 1e-6 and round(c) > 1:
                return (f"Your result is {round(c)} times the right one: a "
                        f"missing division by {round(c)}?")
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
            names = _input_names(grad_f, f, len(xs), 0)
            labels = [_label(names, i) for i in which]
            grads = _as_results(_call(grad_f, xs, name, names),
                                len(which), name, labels)
            nums = []
            for i in which:
                work = [np.array(v) for v in xs]
                nums.append(numerical_gradient(
                    lambda: _scalar(_call(f, work, fname), fname),
                    work[i], h, order=4))
            _compare_all(grads, nums, labels, tol, dtype, name)

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
            names = _input_names(backward, forward, len(xs), 1)
            upstream = (_params(backward, 1) or ["G"])[0]
            out = _call(backward, [G] + xs, name, [upstream] + names)
            which = _wrt(wrt, len(xs))
            labels = [_label(names, i) for i in which]
            grads = _as_results(out, len(which), name, labels)
            nums = []
            for i in which:
                work = [np.array(v) for v in xs]
                nums.append(numerical_gradient(
                    lambda: float(np.sum(G * _call(forward, work, fname))),
                    work[i], h, order=4))
            _compare_all(grads, nums, labels, tol, dtype, name)

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
            names = _input_names(answer, reference, len(xs), 0)
            labels = [f"result {i + 1}" for i in range(len(wants))] \
                if many else [f"{name}'s result"]
            gots = _as_results(_call(answer, xs, name, names), len(wants),
                               name, labels if many else None)
            _compare_all(gots, wants, labels, tol, dtype, name, "results")

    return _report(name, run, f"It agrees with the reference on {trials} "
                   f"random inputs (relative error below {tol:.0e}).")


def check_value(answer, expected, *, name=None, tol=1e-10, dtype=None,
                reveal=False):
    """Check an answer that is one number or array against ``expected``.

    ``answer`` is a function of no arguments that returns it (so that the
    student edition's stub raises only when the check calls it), or the
    value itself. The answer must have ``expected``'s shape (one number for
    a scalar), be finite and real, of ``dtype`` if given, and agree within
    a relative error (eq-rel-error) of ``tol``, which the report states.
    A wrong number is reported as too large or too small; the expected
    value is shown only with ``reveal=True``, so a pen-and-paper answer
    is not given away. Prints a report and returns a :class:`CheckResult`.
    """
    if callable(answer):
        name = _name(answer, name)
        get = answer
    else:
        name = _name(answer, "your answer" if name is None else name)

        def get():
            return answer
    tol = _positive(tol, "tol")
    try:
        want = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected must be a number or an array of "
                        f"numbers; got {type(expected).__name__}") from err
    if not np.all(np.isfinite(want)):
        raise ValueError("expected must be finite")

    def run():
        got = _call(get, [], name)
        if isinstance(got, (bool, np.bool_)):
            raise _Stop("wrong", f"{name} returned a bool; expected a "
                        "number.")
        _compare(got, want, f"{name}'s result", tol, dtype, reveal)

    return _report(name, run, f"It equals the expected value (relative "
                   f"error below {tol:.0e}).")


def _input_names(answer, other, count: int, skip: int) -> list[str]:
    """The names of the inputs: the parameters of the reader's ``answer``
    (after the first ``skip``), else those of ``other`` (the forward
    pass), else "input 1", "input 2", ..."""
    return (_params(answer, count, skip) or _params(other, count)
            or [f"input {k + 1}" for k in range(count)])


def _label(names, i: int) -> str:
    """How a report names the gradient for input ``i``: dW for W."""
    name = names[i]
    return f"the gradient for {name}" if " " in name else f"d{name}"
