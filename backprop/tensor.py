"""An array reverse-mode automatic differentiation engine on NumPy.

:mod:`backprop.engine` differentiates one scalar per node; this module does
the same for whole arrays. A :class:`Tensor` holds an ndarray ``data``; an
operation on tensors computes its result with NumPy and remembers, next to
it, a closure ``vjp(G)`` that turns the upstream gradient G = dE/d(result)
into dE/d(input) for each input: the vector-Jacobian products of
:mod:`backprop.vjp` (eq-vjp-chain). Each operation's VJP *calls* the rule in
:mod:`backprop.vjp`, so every rule is written once. Fused operations
(:func:`conv2d`, :func:`max_pool2d`, :func:`batch_norm`, :func:`layer_norm`,
:func:`attention`, :func:`rnn`) are single nodes with their own derived
backward pass, built from those rules where one applies.

>>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> loss = (x * x).sum()              # sum of squares, d/dx = 2x
>>> loss.backward()
>>> x.grad
array([[2., 4.],
       [6., 8.]])

Design decisions
----------------
* **Topological order** is found by an iterative depth-first search (as in
  :meth:`backprop.engine.Value.topological_order`), so a chain of 5000
  operations does not hit Python's recursion limit. ``backward`` visits the
  nodes in reverse order, so a node passes its gradient on only after all
  of its uses have added theirs (eq-vjp-fanout).
* **Accumulation**, as in PyTorch: a leaf (a tensor made by the user)
  *adds* each backward pass's gradient to ``grad`` (``None`` until the
  first pass); clear it with :meth:`Tensor.zero_grad` or :func:`zero_grad`
  (they set ``grad`` back to ``None``). An interior node's ``grad`` holds
  the gradient of the latest pass only (dE/dZ, say, for a look at delta).
  ``backward`` keeps the graph, so it may be called again.
* **requires_grad**: a result requires grad if any input does; a result of
  constants only is a constant and records no graph. Constants never get a
  ``grad``, and a fused operation skips work for an input that needs no
  gradient (``conv2d`` does no col2im for the images).
* **Checks before computing**: data are checked when a tensor is made
  (``TypeError`` for non-numeric data, ``ValueError`` for NaN or inf); every
  operation checks shapes, labels and indices before it computes and says
  what it expected and what it got; a result that overflows to inf raises
  ``ValueError`` naming the operation. ``backward`` raises ``RuntimeError``
  on a tensor of more than one element or one that requires no grad.
* **dtypes**: float64 by default; float32 data stay float32 (results and
  gradients too). Integer and boolean data become float64. A Python number
  or an integer array next to a tensor takes the tensor's dtype; a float
  array keeps its own, and NumPy's promotion applies (float32 with float64
  gives float64). A gradient always has its tensor's dtype. Class labels
  (:func:`cross_entropy`) and indices (:func:`embedding`) stay integer
  arrays, checked to lie in range, negative ones rejected: labels raise
  ``ValueError`` (as :class:`backprop.MLP` does), indices ``IndexError``
  (as NumPy indexing does).
* ``x ** p`` only for a Python number p (a tensor exponent raises
  ``TypeError``). ``x @ y`` needs at least 2 axes on both sides (a vector
  is a (1, k) or (k, 1) matrix). ``x.T`` is for 2-D tensors;
  ``x.transpose(*axes)`` for any. ``x[index]`` takes slices, ints and
  integer arrays (NumPy's rules, negative indices included) and scatters
  back with :func:`backprop.vjp.getitem_vjp`.
* ``Tensor.__array_priority__`` and ``__array_ufunc__ = None`` make NumPy
  hand ``ndarray @ Tensor`` (and ``+ - * /``) to the tensor, so the result
  is a tensor; a ufunc such as ``np.exp(x)`` on a tensor raises
  ``TypeError`` (write ``x.exp()``).
* Stable numerics: sigmoid never overflows, softmax and log-softmax use
  log-sum-exp (finite at logits of 1e4), attention masks by ``where``
  (no inf, no NaN).
* Fused operations: :func:`attention` raises ``ValueError`` if a mask row
  has no True (a query that attends to nothing has no softmax);
  :func:`max_pool2d` sends a tied window's gradient to its first maximum
  and needs H and W divisible by the window; :func:`dropout` with p = 0
  returns x itself.
* Memory: a node keeps what its VJP reads (inputs, outputs, im2col
  columns) for as long as the graph lives; nothing is freed early.

The engine is for teaching, but not a toy: convolution is im2col plus one
(batched) BLAS matrix product, and no Python loop runs over pixels (col2im
loops over the kh * kw kernel offsets, max pooling over the size * size
window offsets, the RNN over time steps).

Operations
----------
=================================  =========================================
call                               backward rule (from :mod:`backprop.vjp`)
=================================  =========================================
``x + y``, ``x - y``               ``add_vjp`` (sums broadcast axes)
``x * y``, ``x / y``               ``mul_vjp`` (division: y's rule times
                                   -1/y^2)
``-x``, ``x ** p``                 -G; p x^(p-1) G (here)
``x @ y``                          ``matmul_vjp`` (batched too)
``x.sum``, ``x.mean``, ``x.max``   ``sum_vjp``, ``mean_vjp``, ``max_vjp``
``x.exp/log/tanh/sigmoid/relu()``  ``exp_vjp``, ``log_vjp``, ...
``x.reshape``, ``x.transpose``,    ``reshape_vjp``, ``transpose_vjp``
``x.T``
``x[index]``, ``embedding``        ``getitem_vjp`` (scatter-add)
``softmax``, ``log_softmax``       ``softmax_vjp``; G - ``logsumexp_vjp``
``cross_entropy``                  ``logsumexp_vjp`` minus one-hot
``mse``                            composed of the operations above
``conv2d``                         ``matmul_vjp`` then col2im
``max_pool2d``                     routing to the first maximum (here)
``batch_norm``, ``layer_norm``     ``mul_vjp`` then the three-term formula
``attention``                      ``matmul_vjp``, ``softmax_vjp``
``rnn``                            ``tanh_vjp``, ``matmul_vjp`` (BPTT)
``dropout``                        ``mul_vjp`` with the fixed mask
=================================  =========================================
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import vjp as V
from ._validate import as_float_array, check_labels
from .activations import sigmoid as _sigmoid

__all__ = [
    "Tensor", "zero_grad", "softmax", "log_softmax", "cross_entropy", "mse",
    "conv2d", "max_pool2d", "batch_norm", "layer_norm", "embedding",
    "attention", "rnn", "dropout",
]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# ------------------------------------------------------------ input checks
def _as_data(x, name: str, like=None) -> np.ndarray:
    """``x`` as a finite float32/float64 array. Floats keep their dtype;
    ints and bools become ``like`` (a dtype) or float64."""
    arr = np.asarray(x)
    if arr.dtype in _FLOATS:
        dtype = arr.dtype
    else:
        dtype = like if like is not None else np.float64
    return as_float_array(arr, name, dtype=dtype)


def _tensor(x, name: str) -> "Tensor":
    """``x`` itself if it is a Tensor, else a constant Tensor of it."""
    if isinstance(x, Tensor):
        return x
    return Tensor._constant(_as_data(x, name))


def _lift(other, like: "Tensor", op: str) -> "Tensor":
    """The other operand of a binary operator as a Tensor: a number or an
    integer array takes the dtype of ``like``; a float array keeps its
    own."""
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (bool, np.bool_)):
        raise TypeError(f"unsupported operand for {op}: Tensor and bool")
    name = f"the operand of {op}"
    if isinstance(other, numbers.Real):       # a Python (or NumPy) number
        return Tensor._constant(as_float_array(other, name, dtype=like.dtype))
    return Tensor._constant(_as_data(other, name, like=like.dtype))


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value,
                                                 (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}; got {value}")
    return int(value)


def _check_ndim(x: "Tensor", ndim: int, name: str, layout: str) -> None:
    if x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}; got shape "
                         f"{x.shape}")


def _check_shape(x: "Tensor", shape: tuple, name: str) -> None:
    if x.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {x.shape}")


def _check_finite(data: np.ndarray, op: str) -> None:
    if not np.isfinite(data).all():
        bad = int(data.size - np.count_nonzero(np.isfinite(data)))
        raise ValueError(
            f"{op} produced {bad} NaN or inf value(s) from finite inputs: "
            f"it overflowed {data.dtype.name} (largest value "
            f"{np.finfo(data.dtype).max:.3g}); scale the inputs down")


def _result(data, parents, vjp, op: str, check: bool = True) -> "Tensor":
    """The output node of an operation: its value ``data``, its inputs
    ``parents`` (Tensors) and ``vjp(G)``, which returns dE/d(parent) for
    each parent (or None where a parent needs no gradient). ``check``: test
    the value for overflow (off for operations that cannot overflow)."""
    data = np.asarray(data)
    if check:
        _check_finite(data, op)
    out = Tensor.__new__(Tensor)
    out.data, out.grad, out.op = data, None, op
    out.requires_grad = any(p.requires_grad for p in parents)
    if out.requires_grad:                 # record the graph
        out._parents, out._vjp = tuple(parents), vjp
    else:                                 # constants: no graph, no grad
        out._parents, out._vjp = (), None
    return out


# ------------------------------------------------------------ the Tensor
class Tensor:
    """An array node of a computational graph.

    Attributes
    ----------
    data : ndarray, float64 or float32
        The forward value (shared, not copied, if already such an array).
    grad : ndarray of ``data.shape`` or None
        dE/d(this tensor) after ``E.backward()``; None before. Leaves
        accumulate over backward passes; interior nodes keep the latest.
    requires_grad : bool
        Whether gradients flow to this tensor (for results: whether any
        input requires grad).
    op : str
        Name of the operation that made it ("" for a leaf).
    """

    __slots__ = ("data", "grad", "requires_grad", "op", "_parents", "_vjp")
    __array_priority__ = 1000.0    # ndarray (op) Tensor -> Tensor's method
    __array_ufunc__ = None         # np.exp(Tensor) raises TypeError

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            raise TypeError("Tensor(data) needs an array, not a Tensor; "
                            "use x.detach() for a constant copy of x")
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"requires_grad must be True or False; got "
                            f"{requires_grad!r}")
        self.data = _as_data(data, "Tensor data")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.op = ""
        self._parents, self._vjp = (), None

    @classmethod
    def _constant(cls, data: np.ndarray) -> "Tensor":
        """A leaf for checked data, with no grad (operands, labels)."""
        out = cls.__new__(cls)
        out.data, out.grad, out.requires_grad, out.op = data, None, False, ""
        out._parents, out._vjp = (), None
        return out

    # -------------------------------------------------------- attributes
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a one-element tensor; got shape "
                             f"{self.shape}")
        return float(self.data.reshape(()))

    def detach(self) -> "Tensor":
        """A constant tensor with a copy of this one's data."""
        return Tensor._constant(self.data.copy())

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad`` becomes None)."""
        self.grad = None

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        op = f", op={self.op!r}" if self.op else ""
        return (f"Tensor(shape={self.shape}, dtype={self.dtype.name}"
                f"{grad}{op})")

    # -------------------------------------------------- arithmetic (+-*/)
    def __add__(self, other):
        a, b = self, _lift(other, self, "+")

        def vjp(G):   # y = a + b: G to both, summed where broadcast
            return V.add_vjp(G, a.shape, b.shape)
        return _result(_binary(np.add, a, b, "+"), (a, b), vjp, "add")

    def __radd__(self, other):
        return _lift(other, self, "+") + self

    def __sub__(self, other):
        a, b = self, _lift(other, self, "-")

        def vjp(G):   # y = a - b: as addition, with -G for b
            da, db = V.add_vjp(G, a.shape, b.shape)
            return da, -db
        return _result(_binary(np.subtract, a, b, "-"), (a, b), vjp, "sub")

    def __rsub__(self, other):
        return _lift(other, self, "-") - self

    def __neg__(self):
        def vjp(G):   # y = -x: dx = -G
            return (-G,)
        return _result(-self.data, (self,), vjp, "neg", check=False)

    def __mul__(self, other):
        a, b = self, _lift(other, self, "*")

        def vjp(G):   # y = a * b: da = G b, db = G a ("multiply swaps")
            return V.mul_vjp(G, a.data, b.data)
        return _result(_binary(np.multiply, a, b, "*"), (a, b), vjp, "mul")

    def __rmul__(self, other):
        return _lift(other, self, "*") * self

    def __truediv__(self, other):
        a, b = self, _lift(other, self, "/")
        _binary_shape(a, b, "/")
        if not np.all(b.data):
            zeros = b.size - np.count_nonzero(b.data)
            raise ValueError(f"division by zero: the divisor (shape "
                             f"{b.shape}) holds {zeros} zero(s)")
        with np.errstate(over="ignore", invalid="ignore"):
            y = a.data / b.data
            r = 1 / b.data                     # y = a * r with r = 1 / b
        _check_finite(r, "1 / y")

        def vjp(G):   # mul's rule, then dr/db = -1/b^2 = -r^2
            da, dr = V.mul_vjp(G, a.data, r)
            return da, -dr * r * r
        return _result(y, (a, b), vjp, "div")

    def __rtruediv__(self, other):
        return _lift(other, self, "/") / self

    def __pow__(self, p):
        if isinstance(p, (bool, np.bool_)) or not isinstance(p,
                                                             numbers.Real):
            raise TypeError(f"x ** p needs a Python number p; got "
                            f"{type(p).__name__} (write (p * x.log()).exp()"
                            f" for a tensor exponent)")
        p = int(p) if float(p).is_integer() else float(p)
        if not math.isfinite(p):
            raise ValueError(f"x ** p needs a finite p; got {p}")
        x = self.data
        if isinstance(p, float) and np.any(x < 0):
            raise ValueError(f"x ** {p} with x < 0 is not real; x holds "
                             f"{np.count_nonzero(x < 0)} negative value(s)")
        if p < 0 and not np.all(x):
            raise ValueError(f"x ** {p} divides by zero: x holds "
                             f"{x.size - np.count_nonzero(x)} zero(s)")

        def vjp(G):   # d(x^p)/dx = p x^(p-1)
            if p == 0:
                return (np.zeros_like(G),)
            if p < 1 and not np.all(x):
                raise ValueError(f"d(x ** {p})/dx is infinite at x = 0")
            return (G * (p * x ** (p - 1)),)
        with np.errstate(over="ignore"):
            y = x ** p
        return _result(y, (self,), vjp, f"pow {p}")

    def __rpow__(self, other):
        raise TypeError("a Tensor as an exponent is not supported; write "
                        "(x * log(base)).exp()")

    # ------------------------------------------------------ matrix product
    def __matmul__(self, other):
        a, b = self, _lift(other, self, "@")
        _check_matmul(a.shape, b.shape)

        def vjp(G):   # C = A B: dA = G B^T, dB = A^T G
            return V.matmul_vjp(G, a.data, b.data)
        with np.errstate(over="ignore", invalid="ignore"):
            y = a.data @ b.data
        return _result(y, (a, b), vjp, "matmul")

    def __rmatmul__(self, other):
        return _lift(other, self, "@") @ self

    # ---------------------------------------------------------- reductions
    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (None: all; an int or a tuple of ints)."""
        x = self
        axes = _reduction(x, axis, keepdims)

        def vjp(G):   # every summed entry gets the G of its sum
            return (V.sum_vjp(G, x.shape, axes, keepdims),)
        return _result(x.data.sum(axis=axes, keepdims=keepdims), (x,), vjp,
                       "sum")

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis`` (None: all; an int or a tuple of ints)."""
        x = self
        axes = _reduction(x, axis, keepdims)
        if math.prod(x.shape[i] for i in axes) == 0:
            raise ValueError(f"mean over axes {axes} of shape {x.shape} "
                             f"averages no entries")

        def vjp(G):   # the sum's rule divided by the count
            return (V.mean_vjp(G, x.shape, axes, keepdims),)
        return _result(x.data.mean(axis=axes, keepdims=keepdims), (x,), vjp,
                       "mean")

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis``; ties share the gradient (max_vjp)."""
        x = self
        axes = _reduction(x, axis, keepdims)
        if x.size == 0:
            raise ValueError("max of an empty tensor")

        def vjp(G):   # G routed to the maximum (shared by ties)
            return (V.max_vjp(G, x.data, axes, keepdims),)
        return _result(x.data.max(axis=axes, keepdims=keepdims), (x,), vjp,
                       "max", check=False)

    # ---------------------------------------------------------- elementwise
    def exp(self):
        """e^x element-wise; an overflow to inf raises ValueError."""
        x = self
        with np.errstate(over="ignore"):
            y = np.exp(x.data)

        def vjp(G):   # exp' = exp: reads the output
            return (V.exp_vjp(G, y),)
        return _result(y, (x,), vjp, "exp")

    def log(self):
        """Natural log element-wise; needs x > 0 (ValueError otherwise)."""
        x = self
        if np.any(x.data <= 0):
            raise ValueError(f"log needs x > 0; x holds "
                             f"{np.count_nonzero(x.data <= 0)} value(s) "
                             f"<= 0 (smallest {x.data.min():.3g})")

        def vjp(G):   # log' = 1/x
            return (V.log_vjp(G, x.data),)
        return _result(np.log(x.data), (x,), vjp, "log", check=False)

    def tanh(self):
        """tanh element-wise."""
        y = np.tanh(self.data)

        def vjp(G):   # tanh' = 1 - y^2
            return (V.tanh_vjp(G, y),)
        return _result(y, (self,), vjp, "tanh", check=False)

    def sigmoid(self):
        """1 / (1 + e^-x) element-wise, without overflow."""
        y = _sigmoid(self.data)       # exp(-|x|): never overflows

        def vjp(G):   # sigmoid' = y (1 - y)
            return (V.sigmoid_vjp(G, y),)
        return _result(y, (self,), vjp, "sigmoid", check=False)

    def relu(self):
        """max(x, 0) element-wise (slope 0 at x = 0, as the package)."""
        y = np.maximum(self.data, 0)

        def vjp(G):   # G passes where x > 0 (slope 0 at x = 0)
            return (V.relu_vjp(G, y),)
        return _result(y, (self,), vjp, "relu", check=False)

    # ------------------------------------------------------------- shapes
    def reshape(self, *shape):
        """The same entries in a new shape: ``x.reshape(2, 3)`` or
        ``x.reshape((2, 3))``; one -1 is inferred."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        x = self
        try:
            y = x.data.reshape(shape)
        except TypeError as err:
            raise TypeError(f"reshape needs ints; got {shape!r}") from err
        except ValueError as err:
            raise ValueError(f"cannot reshape a tensor of shape {x.shape} "
                             f"({x.size} entries) into {shape}") from err

        def vjp(G):   # no number moves: G in x's shape
            return (V.reshape_vjp(G, x.shape),)
        return _result(y, (x,), vjp, "reshape", check=False)

    def transpose(self, *axes):
        """Permute the axes (none given: reverse them), as in NumPy."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = axes or None
        if axes is not None and sorted(
                a if isinstance(a, (int, np.integer)) else -1
                for a in axes) != list(range(self.ndim)):
            raise ValueError(f"transpose needs a permutation of "
                             f"0..{self.ndim - 1}; got {axes}")
        x = self

        def vjp(G):   # transpose back by the inverse permutation
            return (V.transpose_vjp(G, axes),)
        return _result(x.data.transpose(axes), (x,), vjp, "transpose",
                       check=False)

    @property
    def T(self):
        """The transpose of a 2-D tensor."""
        if self.ndim != 2:
            raise ValueError(f"x.T needs a 2-D tensor; got shape "
                             f"{self.shape} (use x.transpose(*axes))")
        return self.transpose()

    def __getitem__(self, index):
        parts = index if isinstance(index, tuple) else (index,)
        if any(isinstance(i, Tensor) for i in parts):
            raise TypeError("index a Tensor with ints, slices or integer "
                            "arrays, not with a Tensor")
        x = self
        try:
            y = x.data[index]
        except IndexError as err:
            raise IndexError(f"index {index!r} does not fit a tensor of "
                             f"shape {x.shape}: {err}") from err

        def vjp(G):   # gather forward, scatter-add backward
            return (V.getitem_vjp(G, x.shape, index),)
        return _result(y, (x,), vjp, "getitem", check=False)

    # ------------------------------------------------------- backward pass
    def topological_order(self) -> list["Tensor"]:
        """Every node that requires grad this one depends on (itself
        included), each after all its parents. Iterative depth-first
        search: no recursion limit."""
        order, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))       # emitted after its parents
            for p in node._parents:
                if p.requires_grad and id(p) not in visited:
                    stack.append((p, False))
        return order

    def backward(self) -> None:
        """Set dE/dE = 1 for this one-element tensor E and pass gradients
        back to every tensor it depends on (reverse topological order).

        Leaves add to ``grad``; interior nodes get this pass's gradient.
        """
        if self.data.size != 1:
            raise RuntimeError(
                f"backward() needs a one-element tensor (a loss); got shape "
                f"{self.shape}: reduce it first, e.g. with .sum()")
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that requires no "
                               "grad: no input had requires_grad=True")
        grads = {id(self): np.ones_like(self.data)}
        for node in reversed(self.topological_order()):
            G = grads.pop(id(node), None)
            if G is None:                    # no use sent a gradient
                continue
            if not node._parents:            # a leaf: accumulate
                node.grad = (np.array(G) if node.grad is None
                             else node.grad + G)
                continue
            node.grad = G                    # interior: this pass only
            for p, g in zip(node._parents, node._vjp(G)):
                if g is None or not p.requires_grad:
                    continue
                if g.shape != p.shape:       # eq-vjp-shape-rule
                    raise RuntimeError(
                        f"the VJP of {node.op!r} returned a gradient of "
                        f"shape {g.shape} for an input of shape {p.shape}")
                if g.dtype != p.dtype:
                    g = g.astype(p.dtype)
                key = id(p)
                grads[key] = g if key not in grads else grads[key] + g


def zero_grad(params) -> None:
    """Set ``grad`` to None on each Tensor of ``params`` (an iterable)."""
    if isinstance(params, Tensor):
        params = [params]
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"zero_grad expects Tensors; got "
                            f"{type(p).__name__}")
        p.grad = None


# ------------------------------------------------------------ op helpers
def _binary_shape(a: Tensor, b: Tensor, op: str) -> tuple:
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"x {op} y needs shapes that broadcast; got "
                         f"{a.shape} and {b.shape}") from None


def _binary(ufunc, a: Tensor, b: Tensor, op: str) -> np.ndarray:
    _binary_shape(a, b, op)
    with np.errstate(over="ignore", invalid="ignore"):
        return ufunc(a.data, b.data)


def _check_matmul(sa: tuple, sb: tuple) -> None:
    want = "x @ y needs (..., n, k) @ (..., k, m)"
    if len(sa) < 2 or len(sb) < 2:
        raise ValueError(f"{want}, at least 2 axes each (write a vector as "
                         f"a (1, k) or (k, 1) matrix); got {sa} and {sb}")
    if sa[-1] != sb[-2]:
        raise ValueError(f"{want}: k must agree; got {sa} @ {sb} "
                         f"(k = {sa[-1]} and {sb[-2]})")
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"{want}: the batch axes must broadcast; got "
                         f"{sa} and {sb}") from None


def _reduction(x: Tensor, axis, keepdims) -> tuple:
    """The reduced axes as a tuple of non-negative ints (checked)."""
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"keepdims must be True or False; got {keepdims!r}")
    return V._axes(axis, x.ndim)


def _check_axis(axis, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int; got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for {ndim}-D input")
    return int(axis)


# ------------------------------------------------------ softmax and losses
def softmax(x, axis=-1):
    """softmax over ``axis`` (eq-vjp-softmax); shape kept.

    Forward by log-sum-exp (:func:`backprop.vjp.softmax`); backward
    S * (G - sum(G * S)) (:func:`backprop.vjp.softmax_vjp`).
    """
    x = _tensor(x, "x")
    axis = _check_axis(axis, x.ndim)
    S = V.softmax(x.data, axis)

    def vjp(G):
        return (V.softmax_vjp(G, S, axis),)
    return _result(S, (x,), vjp, "softmax", check=False)


def log_softmax(x, axis=-1):
    """log softmax over ``axis``: x - logsumexp(x); shape kept.

    Backward: y = x - lse(x), so dx = G - softmax(x) * sum(G): the identity
    minus :func:`backprop.vjp.logsumexp_vjp` applied to sum(G) over axis.
    """
    x = _tensor(x, "x")
    axis = _check_axis(axis, x.ndim)
    y = x.data - V.logsumexp(x.data, axis, keepdims=True)

    def vjp(G):
        g = G.sum(axis=axis, keepdims=True)
        return (G - V.logsumexp_vjp(g, x.data, axis, keepdims=True),)
    return _result(y, (x,), vjp, "log_softmax", check=False)


def cross_entropy(logits, labels):
    """Softmax cross-entropy, a mean over rows (eq-softmax-ce).

    logits: (N, K) Tensor; labels: int array (N,) in 0..K-1. Returns the
    0-d tensor E = mean_n [logsumexp(z_n) - z_n[y_n]]. Backward:
    dE/dz = (softmax(z) - onehot(y)) / N (eq-delta-ce), the first term by
    :func:`backprop.vjp.logsumexp_vjp`.
    """
    z = _tensor(logits, "logits")
    _check_ndim(z, 2, "logits", "(N, K)")
    n, k = z.shape
    if n == 0 or k == 0:
        raise ValueError(f"logits must hold at least one row and one "
                         f"class; got shape {z.shape}")
    y = check_labels(labels, k, "labels")
    if y.shape[0] != n:
        raise ValueError(f"labels must have shape ({n},) to match logits "
                         f"{z.shape}; got {y.shape}")
    rows = np.arange(n)
    lse = V.logsumexp(z.data, axis=1)                    # (N,)

    def vjp(G):
        g = np.full(n, G / n, dtype=z.dtype)             # dE/dlse_n = G/N
        dz = V.logsumexp_vjp(g, z.data, axis=1)          # g * softmax(z)
        dz[rows, y] -= g                                 # minus onehot
        return (dz,)
    return _result(np.mean(lse - z.data[rows, y]), (z,), vjp,
                   "cross_entropy", check=False)


def mse(pred, target):
    """The book's mean squared error 1/(2N) sum (pred - target)^2 (eq-mse).

    pred: (N, ...) Tensor; target: the same shape (Tensor or array; no
    broadcasting). N is the number of rows. A composition of engine
    operations, so its backward is theirs: (pred - target) / N.
    """
    pred = _tensor(pred, "pred")
    target = _lift(target, pred, "mse")
    if pred.ndim == 0 or pred.shape[0] == 0:
        raise ValueError(f"pred must hold N >= 1 rows; got shape "
                         f"{pred.shape}")
    if target.shape != pred.shape:
        raise ValueError(f"target must have the shape of pred, "
                         f"{pred.shape}; got {target.shape}")
    d = pred - target
    return (d * d).sum() * (0.5 / pred.shape[0])


# ------------------------------------------------------------ convolution
def _im2col(xp: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """The windows of xp (N, C, Hp, Wp) as columns: (N, C*kh*kw, Ho*Wo).

    Column (i, j) of image n holds the C x kh x kw patch that output pixel
    (i, j) sees. ``sliding_window_view`` makes the patches without a copy;
    the reshape copies once.
    """
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw),
                                                   axis=(2, 3))
    win = win[:, :, ::stride, ::stride]             # (N, C, Ho, Wo, kh, kw)
    n, c, ho, wo = win.shape[:4]
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, ho * wo)


def _col2im(dcols: np.ndarray, xp_shape: tuple, kh: int, kw: int,
            stride: int, ho: int, wo: int) -> np.ndarray:
    """The VJP of :func:`_im2col`: scatter-add columns to (N, C, Hp, Wp).

    Patch entry (c, a, b) of output pixel (i, j) came from pixel
    (c, i*stride + a, j*stride + b): for each of the kh * kw offsets (a, b)
    one strided slice of the image receives all of them at once.
    """
    n, c = xp_shape[:2]
    d = dcols.reshape(n, c, kh, kw, ho, wo)
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    for a in range(kh):
        for b in range(kw):
            dxp[:, :, a:a + stride * ho:stride,
                b:b + stride * wo:stride] += d[:, :, a, b]
    return dxp


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-D cross-correlation, as in CNN libraries: one node.

    x: (N, C, H, W) images; w: (F, C, kh, kw) filters; b: (F,) or None.
    Returns (N, F, Ho, Wo), Ho = (H + 2 padding - kh) // stride + 1 (Wo
    alike), y[n, f, i, j] = b[f] + sum_{c,a,b} w[f, c, a, b]
    x[n, c, i*stride + a, j*stride + b] (zero padding).

    Forward: im2col, then one (batched) matrix product Y_n = Wm cols_n with
    Wm = w reshaped to (F, C*kh*kw) and cols_n (C*kh*kw, Ho*Wo) for each
    image n. Backward: the matmul rule (eq-vjp-matmul) gives dWm = sum_n
    G_n cols_n^T and dcols_n = Wm^T G_n; db sums G over n, i, j
    (eq-vjp-broadcast); dx = col2im(dcols), the scatter-add that undoes
    the gather of im2col (eq-vjp-getitem).
    """
    x, w = _tensor(x, "x"), _tensor(w, "w")
    _check_ndim(x, 4, "x", "(N, C, H, W)")
    _check_ndim(w, 4, "w", "(F, C, kh, kw)")
    stride = _check_int(stride, "stride", 1)
    pad = _check_int(padding, "padding", 0)
    n, c, h, wd = x.shape
    f, cw, kh, kw = w.shape
    if cw != c:
        raise ValueError(f"w (F, C, kh, kw) must have the C = {c} channels "
                         f"of x {x.shape}; got w {w.shape}")
    if kh > h + 2 * pad or kw > wd + 2 * pad:
        raise ValueError(f"the {kh}x{kw} kernel is larger than the padded "
                         f"image {h + 2 * pad}x{wd + 2 * pad}")
    parents = [x, w]
    if b is not None:
        b = _tensor(b, "b")
        _check_shape(b, (f,), "b")
        parents.append(b)
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (wd + 2 * pad - kw) // stride + 1
    xp = x.data
    if pad:                        # zero padding (faster than np.pad)
        xp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad), dtype=x.dtype)
        xp[:, :, pad:pad + h, pad:pad + wd] = x.data
    cols = _im2col(xp, kh, kw, stride)             # (N, C kh kw, Ho Wo)
    wm = w.data.reshape(f, c * kh * kw)            # (F, C kh kw)
    with np.errstate(over="ignore", invalid="ignore"):
        out = wm @ cols                            # (N, F, Ho Wo)
        if b is not None:
            out += b.data[:, None]

    def vjp(G):
        Gm = G.reshape(n, f, ho * wo)
        dwm, dcols = V.matmul_vjp(Gm, wm, cols)    # dwm summed over n
        dx = None
        if x.requires_grad:
            dxp = _col2im(dcols, xp.shape, kh, kw, stride, ho, wo)
            dx = dxp[:, :, pad:pad + h, pad:pad + wd]
        grads = (dx, dwm.reshape(w.shape))
        if b is None:
            return grads
        return grads + (V.unbroadcast(Gm, (f, 1)).reshape(f),)
    return _result(out.reshape(n, f, ho, wo), parents, vjp, "conv2d")


def max_pool2d(x, size):
    """Max over non-overlapping size x size windows: one node.

    x: (N, C, H, W) with H and W divisible by ``size``; returns
    (N, C, H/size, W/size). Backward routes each G to the argmax of its
    window (eq-vjp-max). Ties: the *first* maximum of the window in
    row-major order gets all of G (as in PyTorch), unlike
    :func:`backprop.vjp.max_vjp`, which shares G among tied entries. Both
    passes loop over the size * size offsets of a window, not over pixels.
    """
    x = _tensor(x, "x")
    _check_ndim(x, 4, "x", "(N, C, H, W)")
    s = _check_int(size, "size", 1)
    n, c, h, wd = x.shape
    if h % s or wd % s:
        raise ValueError(f"max_pool2d needs H and W divisible by size = "
                         f"{s}; got x of shape {x.shape}")
    win = x.data.reshape(n, c, h // s, s, wd // s, s)   # a view
    offsets = [(a, b) for a in range(s) for b in range(s)]  # row-major
    y = win[:, :, :, 0, :, 0].copy()
    for a, b in offsets[1:]:
        np.maximum(y, win[:, :, :, a, :, b], out=y)

    def vjp(G):
        dwin = np.zeros(win.shape, dtype=G.dtype)
        free = np.ones(y.shape, dtype=bool)     # window not yet routed
        for a, b in offsets:
            hit = win[:, :, :, a, :, b] == y
            hit &= free
            np.multiply(G, hit, out=dwin[:, :, :, a, :, b])
            free &= ~hit
        return (dwin.reshape(x.shape),)
    return _result(y, (x,), vjp, "max_pool2d", check=False)


# ---------------------------------------------------------- normalization
def _check_eps(eps) -> float:
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps,
                                                           numbers.Real):
        raise TypeError(f"eps must be a number; got {eps!r}")
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be positive and finite; got {eps}")
    return float(eps)


def _normalize(x, gamma, beta, eps, axis, name):
    """y = gamma * xhat + beta, xhat = (x - mean) / sqrt(var + eps) with
    mean and biased var over ``axis``; the shared body of the norms."""
    d = x.shape[-1]
    gamma, beta = _tensor(gamma, "gamma"), _tensor(beta, "beta")
    _check_shape(gamma, (d,), "gamma")
    _check_shape(beta, (d,), "beta")
    eps = _check_eps(eps)
    mu = x.data.mean(axis=axis, keepdims=True)
    xc = x.data - mu
    inv = 1 / np.sqrt((xc * xc).mean(axis=axis, keepdims=True) + eps)
    xhat = xc * inv
    y = gamma.data * xhat + beta.data

    def vjp(G):
        dxhat, dgamma = V.mul_vjp(G, xhat, gamma.data)   # through gamma
        dbeta = V.unbroadcast(G, beta.shape)
        # the three-term formula (means over axis):
        # dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
        dx = inv * (dxhat - dxhat.mean(axis=axis, keepdims=True)
                    - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True))
        return dx, dgamma, dbeta
    return _result(y, (x, gamma, beta), vjp, name)


def batch_norm(x, gamma, beta, eps=1e-5):
    """Batch normalization with batch statistics: one node.

    x: (N, D), N >= 2; gamma, beta: (D,). Per column, xhat = (x - mu) /
    sqrt(var + eps) with mu and the biased var over the N rows; returns
    gamma * xhat + beta, (N, D). Backward: dgamma = sum_n G xhat, dbeta =
    sum_n G, and with dxhat = G gamma the compact three-term formula
    dx = (1/N) / sqrt(var + eps) * (N dxhat - sum_n dxhat
    - xhat sum_n dxhat xhat), which includes the paths through mu and var.
    """
    x = _tensor(x, "x")
    _check_ndim(x, 2, "x", "(N, D)")
    if x.shape[0] < 2:
        raise ValueError(f"batch_norm needs N >= 2 rows for batch "
                         f"statistics; got x of shape {x.shape}")
    return _normalize(x, gamma, beta, eps, 0, "batch_norm")


def layer_norm(x, gamma, beta, eps=1e-5):
    """Layer normalization over the last axis: one node.

    x: (..., D); gamma, beta: (D,). Each row (last axis) is normalized by
    its own mean and biased variance; returns gamma * xhat + beta with x's
    shape. Backward: the batch-norm formula with the means taken over the
    last axis (D entries) instead of the rows; dgamma and dbeta sum over
    all leading axes.
    """
    x = _tensor(x, "x")
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ValueError(f"layer_norm needs x of shape (..., D), D >= 1; "
                         f"got {x.shape}")
    return _normalize(x, gamma, beta, eps, -1, "layer_norm")


# --------------------------------------------------- embedding, attention
def embedding(weight, indices):
    """Rows of a lookup table: weight[indices].

    weight: (V, D) Tensor; indices: int array of any shape with values in
    0..V-1 (negative ones are rejected, not counted from the end).
    Returns indices.shape + (D,). Backward: scatter-add of G into the
    picked rows (:func:`backprop.vjp.getitem_vjp`).
    """
    weight = _tensor(weight, "weight")
    _check_ndim(weight, 2, "weight", "(V, D)")
    if isinstance(indices, Tensor):
        raise TypeError("indices must be an int array, not a Tensor")
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"indices must be integers; got dtype {idx.dtype}")
    v = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= v):
        raise IndexError(f"indices must lie in 0..{v - 1} (the rows of "
                         f"weight {weight.shape}); got values from "
                         f"{idx.min()} to {idx.max()}")

    def vjp(G):
        return (V.getitem_vjp(G, weight.shape, idx),)
    return _result(weight.data[idx], (weight,), vjp, "embedding",
                   check=False)


def _masked_softmax(S: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Softmax over the last axis of S on the entries where mask is True;
    exactly 0 elsewhere. Every row has a True (checked by the caller), so
    the row maximum is finite; no inf or NaN arises."""
    top = np.max(np.where(mask, S, -np.inf), axis=-1, keepdims=True)
    e = np.where(mask, np.exp(np.where(mask, S - top, 0)), 0)
    return e / e.sum(axis=-1, keepdims=True)


def attention(q, k, v, mask=None):
    """Scaled dot-product attention softmax(q k^T / sqrt(d)) v: one node.

    q: (N, Tq, d), k: (N, Tk, d), v: (N, Tk, dv); returns (N, Tq, dv).
    mask: None or a bool array broadcastable to (N, Tq, Tk), True where
    query i may attend to key j; every query needs at least one True
    (``ValueError`` otherwise). Masked scores get weight exactly 0.

    Backward, with S = q k^T / sqrt(d) and P = softmax(S): dP, dv by the
    matmul rule on P v; dS = softmax_vjp(dP, P) (masked entries have P = 0,
    so they get dS = 0); then dq = dS k / sqrt(d) and dk = dS^T q / sqrt(d),
    the matmul rule on q k^T.
    """
    q, k, v = _tensor(q, "q"), _tensor(k, "k"), _tensor(v, "v")
    _check_ndim(q, 3, "q", "(N, Tq, d)")
    _check_ndim(k, 3, "k", "(N, Tk, d)")
    _check_ndim(v, 3, "v", "(N, Tk, dv)")
    n, tq, d = q.shape
    if k.shape[0] != n or k.shape[2] != d:
        raise ValueError(f"k must have shape ({n}, Tk, {d}) to match q "
                         f"{q.shape}; got {k.shape}")
    tk = k.shape[1]
    if v.shape[:2] != (n, tk):
        raise ValueError(f"v must have shape ({n}, {tk}, dv) to match k "
                         f"{k.shape}; got {v.shape}")
    if d == 0 or tk == 0:
        raise ValueError(f"attention needs d >= 1 and Tk >= 1; got q "
                         f"{q.shape} and k {k.shape}")
    if mask is not None:
        if isinstance(mask, Tensor):
            raise TypeError("mask must be a bool array, not a Tensor")
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"mask must be a bool array (True = attend); "
                            f"got dtype {mask.dtype}")
        try:
            fits = np.broadcast_shapes(mask.shape, (n, tq, tk)) == (n, tq,
                                                                    tk)
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"mask must broadcast to (N, Tq, Tk) = "
                             f"{(n, tq, tk)}; got shape {mask.shape}")
        mask = np.broadcast_to(mask, (n, tq, tk))
        empty = ~mask.any(axis=-1)
        if empty.any():
            where = tuple(int(i) for i in np.argwhere(empty)[0])
            raise ValueError(f"mask leaves query (n, i) = {where} (and "
                             f"{int(empty.sum()) - 1} more) with no key to "
                             f"attend to: each row needs a True")
    scale = 1 / math.sqrt(d)
    kt = np.swapaxes(k.data, -1, -2)                 # (N, d, Tk)
    with np.errstate(over="ignore", invalid="ignore"):
        S = (q.data @ kt) * scale                    # (N, Tq, Tk)
    _check_finite(S, "attention scores q k^T")
    P = V.softmax(S, -1) if mask is None else _masked_softmax(S, mask)
    y = P @ v.data

    def vjp(G):
        dP, dv = V.matmul_vjp(G, P, v.data)
        dS = V.softmax_vjp(dP, P, -1) * scale        # through softmax
        dq, dkt = V.matmul_vjp(dS, q.data, kt)
        return dq, np.swapaxes(dkt, -1, -2), dv
    return _result(y, (q, k, v), vjp, "attention")


# ------------------------------------------------------------------ RNN
def rnn(x, h0, Wx, Wh, b):
    """A tanh recurrent layer over a whole sequence: one node.

    x: (T, N, D); h0: (N, H); Wx: (D, H); Wh: (H, H); b: (H,). Returns the
    hidden states (T, N, H), h_t = tanh(x_t Wx + h_{t-1} Wh + b).

    Backward through time (BPTT), from t = T-1 down to 0: the gradient
    reaching h_t is G[t] plus what h_{t+1} sends back; dz_t = that times
    1 - h_t^2 (tanh_vjp); the matmul rule on h_{t-1} Wh gives dWh (summed
    over t) and dh_{t-1} = dz_t Wh^T. The input part needs no loop: dx and
    dWx by the matmul rule on all T N rows at once, db = sum of dz.
    """
    x, h0 = _tensor(x, "x"), _tensor(h0, "h0")
    Wx, Wh, b = _tensor(Wx, "Wx"), _tensor(Wh, "Wh"), _tensor(b, "b")
    _check_ndim(x, 3, "x", "(T, N, D)")
    _check_ndim(h0, 2, "h0", "(N, H)")
    t_len, n, d = x.shape
    hd = h0.shape[1]
    if h0.shape[0] != n:
        raise ValueError(f"h0 must have shape ({n}, H) to match x "
                         f"{x.shape}; got {h0.shape}")
    _check_shape(Wx, (d, hd), "Wx")
    _check_shape(Wh, (hd, hd), "Wh")
    _check_shape(b, (hd,), "b")
    if t_len == 0:
        raise ValueError(f"x must hold at least one time step; got shape "
                         f"{x.shape}")
    xr = x.data.reshape(t_len * n, d)
    with np.errstate(over="ignore", invalid="ignore"):
        xw = (xr @ Wx.data).reshape(t_len, n, hd) + b.data
    _check_finite(xw, "rnn input projection x Wx + b")
    hs = np.empty(xw.shape, dtype=xw.dtype)
    h = h0.data
    for t in range(t_len):
        h = hs[t] = np.tanh(xw[t] + h @ Wh.data)

    def vjp(G):
        dz = np.empty(hs.shape, dtype=hs.dtype)
        dWh = np.zeros(Wh.shape, dtype=hs.dtype)
        dh = np.zeros((n, hd), dtype=hs.dtype)
        for t in range(t_len - 1, -1, -1):
            dz[t] = V.tanh_vjp(G[t] + dh, hs[t])
            h_prev = hs[t - 1] if t else h0.data
            dh, dWh_t = V.matmul_vjp(dz[t], h_prev, Wh.data)
            dWh += dWh_t
        dzr = dz.reshape(t_len * n, hd)
        dx, dWx = V.matmul_vjp(dzr, xr, Wx.data)
        return (dx.reshape(x.shape), dh, dWx, dWh,
                V.unbroadcast(dzr, (hd,)))
    return _result(hs, (x, h0, Wx, Wh, b), vjp, "rnn", check=False)


# -------------------------------------------------------------- dropout
def dropout(x, p, rng):
    """Inverted dropout: each entry kept with probability 1 - p, kept ones
    scaled by 1/(1 - p), so the expectation is x.

    x: Tensor; p: a number in [0, 1); rng: a ``numpy.random.Generator``
    (it draws the mask, x.shape uniforms). p = 0 returns x itself (and
    draws nothing). Backward: y = x * m with the constant mask m, so
    dx = G * m (:func:`backprop.vjp.mul_vjp`).
    """
    x = _tensor(x, "x")
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real):
        raise TypeError(f"p must be a number in [0, 1); got {p!r}")
    if not 0 <= p < 1:
        raise ValueError(f"p must lie in [0, 1); got {p}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got "
                        f"{type(rng).__name__}")
    if p == 0:
        return x
    m = ((rng.random(x.shape) >= p) / (1 - p)).astype(x.dtype)

    def vjp(G):
        return (V.mul_vjp(G, x.data, m)[0],)
    return _result(x.data * m, (x,), vjp, "dropout", check=False)
