"""A scalar reverse-mode automatic differentiation engine.

Every number of a computation becomes a :class:`Value` node. An operation
creates a new node that remembers its inputs (``parents``) and, computed right
next to the forward value, the **local derivatives** d(output)/d(parent)
(``local_grads``). ``backward()`` then walks the graph once, in reverse
topological order, and applies the multivariable chain rule as an accumulation
over each node's children (eq-autodiff-chain):

    dE/dv = sum over children c of v:  dE/dc * dc/dv

The design is in the spirit of Karpathy's *micrograd* (small and readable);
the code is our own. Its purpose in the book is to compute the same gradients
as the vectorized delta rule of :class:`backprop.MLP` by a completely different
route, so that each can check the other: see :func:`mlp_loss_and_grads`.

>>> x = Value(3.0)
>>> y = x * x + 2 * x          # y = x^2 + 2x, dy/dx = 2x + 2
>>> y.backward()
>>> x.grad
8.0
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["Value", "vsum", "zero_grad", "mlp_forward", "mlp_loss",
           "mlp_loss_and_grads"]


def _check_real(x, what: str) -> float:
    """``float(x)`` for a finite real number (int, float, NumPy scalar);
    else raise."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a real number (int or float); "
                        f"got {type(x).__name__}: {x!r}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{what} must be finite; got {x}")
    return x


class Value:
    """One scalar node of a computational graph.

    Attributes
    ----------
    data : float
        The forward value.
    grad : float
        dE/d(this node) after ``E.backward()``; 0.0 before. Leaves (nodes
        made by the user, such as parameters) *accumulate* over backward
        passes until :meth:`zero_grad`; interior nodes hold the gradient of
        the latest pass.
    parents : tuple of Value
        The inputs of the operation that made this node (empty for a leaf).
    local_grads : tuple of float
        d(this node)/d(parent) for each parent, computed with the forward
        value.
    op : str
        Name of the operation ("" for a leaf); used only for display.
    """

    __slots__ = ("data", "grad", "parents", "local_grads", "op", "label")

    def __init__(self, data, label: str = ""):
        self.data = _check_real(data, "Value data")
        self.grad = 0.0
        self.parents: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()
        self.op = ""
        if not isinstance(label, str):
            raise TypeError(
                f"label must be a string; got {type(label).__name__}")
        self.label = label

    @classmethod
    def _node(cls, data: float, parents, local_grads, op: str) -> "Value":
        """A new interior node: forward value, its inputs, and
        d(node)/d(input) for each."""
        if not math.isfinite(data):
            raise ValueError(f"operation {op!r} produced {data} "
                             "(overflow or invalid input)")
        out = cls.__new__(cls)
        out.data = float(data)
        out.grad = 0.0
        out.parents = tuple(parents)
        out.local_grads = tuple(float(g) for g in local_grads)
        out.op = op
        out.label = ""
        return out

    @staticmethod
    def _lift(other, op: str) -> "Value":
        """Turn a plain number into a constant leaf so ``x + 1`` and
        ``2 * x`` work."""
        if isinstance(other, Value):
            return other
        if (isinstance(other, (bool, np.bool_))
                or not isinstance(other, numbers.Real)):
            raise TypeError(f"unsupported operand for {op}: Value and "
                            f"{type(other).__name__} "
                            f"(expected a Value or a real number)")
        return Value(other)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        other = self._lift(other, "+")
        # d(a + b)/da = 1, d(a + b)/db = 1
        return Value._node(self.data + other.data, (self, other),
                           (1.0, 1.0), "+")

    def __sub__(self, other):
        other = self._lift(other, "-")
        # d(a - b)/da = 1, d(a - b)/db = -1
        return Value._node(self.data - other.data, (self, other),
                           (1.0, -1.0), "-")

    def __mul__(self, other):
        other = self._lift(other, "*")
        # d(ab)/da = b, d(ab)/db = a
        return Value._node(self.data * other.data, (self, other),
                           (other.data, self.data), "*")

    def __truediv__(self, other):
        other = self._lift(other, "/")
        a, b = self.data, other.data
        if b == 0.0:
            raise ValueError("division by a Value whose data is 0")
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        return Value._node(a / b, (self, other), (1.0 / b, -a / (b * b)), "/")

    def __neg__(self):
        # d(-a)/da = -1
        return Value._node(-self.data, (self,), (-1.0,), "neg")

    def __pow__(self, k):
        if isinstance(k, Value):
            raise TypeError("the exponent of ** must be a constant number, "
                            "not a Value (write exp(k * log(x)) for a "
                            "variable exponent)")
        k = _check_real(k, "exponent")
        a = self.data
        if a < 0 and not k.is_integer():
            raise ValueError(f"x ** {k} with x = {a} < 0 is not a real number")
        if a == 0 and k < 0:
            raise ValueError(f"x ** {k} with x = 0 divides by zero")
        if k == 0:
            local = 0.0
        elif a == 0 and k < 1:
            raise ValueError(f"d(x ** {k})/dx is infinite at x = 0")
        else:
            local = k * a ** (k - 1)          # d(a^k)/da = k a^(k-1)
        return Value._node(a ** k, (self,), (local,), f"**{k:g}")

    # reflected operations: number (op) Value
    def __radd__(self, other):
        return self._lift(other, "+") + self

    def __rsub__(self, other):
        return self._lift(other, "-") - self

    def __rmul__(self, other):
        return self._lift(other, "*") * self

    def __rtruediv__(self, other):
        return self._lift(other, "/") / self

    def __rpow__(self, other):
        raise TypeError("a Value can only be raised to a constant power; "
                        "a Value as the exponent is not supported "
                        "(write exp(x * log(base)))")

    # ------------------------------------------------------------ functions
    def exp(self):
        if self.data > 709.0:
            raise ValueError(f"exp({self.data}) overflows float64")
        e = math.exp(self.data)
        # d(e^a)/da = e^a
        return Value._node(e, (self,), (e,), "exp")

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive argument; got {self.data}")
        # d(log a)/da = 1/a
        return Value._node(math.log(self.data), (self,),
                           (1.0 / self.data,), "log")

    def tanh(self):
        t = math.tanh(self.data)
        # d(tanh a)/da = 1 - tanh(a)^2  (eq-tanh-prime)
        return Value._node(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        a = self.data
        e = math.exp(-abs(a))                 # never overflows
        s = 1.0 / (1.0 + e) if a >= 0 else e / (1.0 + e)
        # d(sigma(a))/da = sigma(a) (1 - sigma(a))  (eq-sigmoid-prime)
        return Value._node(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self):
        a = self.data
        # d(max(0, a))/da = 1 for a > 0, 0 for a <= 0, as in the package
        # (eq-relu-prime)
        return Value._node(max(a, 0.0), (self,), (1.0 if a > 0 else 0.0,),
                           "relu")

    def softplus(self):
        """log(1 + e^a), computed as max(a, 0) + log1p(e^-|a|) so it never
        overflows."""
        a = self.data
        e = math.exp(-abs(a))
        s = 1.0 / (1.0 + e) if a >= 0 else e / (1.0 + e)
        # d(log(1 + e^a))/da = sigma(a): exact, also at a = 0 (no kink to
        # trip over)
        return Value._node(max(a, 0.0) + math.log1p(e), (self,), (s,),
                           "softplus")

    # -------------------------------------------------------- backward pass
    def topological_order(self) -> list["Value"]:
        """Every node this one depends on (itself included), each after all
        its parents.

        Iterative depth-first search, so deep graphs do not hit Python's
        recursion limit.
        """
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
            stack.append((node, True))       # emitted after all its parents
            for p in node.parents:
                if id(p) not in visited:
                    stack.append((p, False))
        return order

    def backward(self) -> None:
        """Set dE/dE = 1 for this node E and fill in ``grad`` of every node
        it depends on.

        Nodes are visited in reverse topological order, so a node passes its
        gradient on only after *all* of its children have added their share
        (eq-autodiff-chain). Interior nodes start the pass at 0; leaves add
        to what they already hold, so call :meth:`zero_grad` (or
        :func:`zero_grad`) between optimisation steps.
        """
        order = self.topological_order()
        for node in order:
            if node.parents:                 # interior node: fresh each pass
                node.grad = 0.0
        if self.parents:
            self.grad = 1.0                  # dE/dE = 1
        else:
            self.grad += 1.0                 # E is a leaf: accumulate
        for node in reversed(order):
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad     # += : one share per use

    def zero_grad(self) -> None:
        """Set ``grad`` to 0 on this node and every node it depends on."""
        for node in self.topological_order():
            node.grad = 0.0

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"


def vsum(values) -> Value:
    """Sum of Values (or numbers) as **one** node whose local derivatives
    are all 1.

    Equivalent to chaining ``+`` but keeps the graph shallow. Needs at least
    one term.
    """
    terms = [Value._lift(v, "vsum") for v in values]
    if not terms:
        raise ValueError("vsum needs at least one term; got none")
    # d(t_1 + ... + t_n)/dt_i = 1 for every term
    return Value._node(math.fsum(t.data for t in terms), terms,
                       [1.0] * len(terms), "sum")


def zero_grad(values) -> None:
    """Set ``grad`` to 0 on every Value in ``values`` (a Value, or an
    iterable/array of them)."""
    if isinstance(values, Value):
        values = [values]
    for v in np.asarray(values, dtype=object).reshape(-1):
        if not isinstance(v, Value):
            raise TypeError(
                f"zero_grad expects Values; got {type(v).__name__}")
        v.grad = 0.0


# ------------------------------------------------------------ MLP on Values
def _as_values(arr: np.ndarray, label: str) -> np.ndarray:
    """An object array of leaf Values with the shape of ``arr``."""
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = Value(float(arr[idx]), label=f"{label}{list(idx)}")
    return out


def _check_net(net):
    from .network import MLP
    if not isinstance(net, MLP):
        raise TypeError(
            f"net must be a backprop.MLP; got {type(net).__name__}")


def mlp_forward(net, X, params=None):
    """The forward pass of ``net`` on Values (eq-forward-batch).

    X: (N, n_0) numbers. ``params``: object arrays of Values aligned with
    ``net.params`` (leaf Values copied from ``net.params`` if None). Returns
    ``(Zs, A_L, params)``: ``Zs`` the pre-activations [Z[1], ..., Z[L]] as
    (N, n_l) object arrays of Values, ``A_L`` the output activations
    (N, n_L).
    """
    _check_net(net)
    X = net._check_X(X)
    if params is None:
        params = [_as_values(p, name)
                  for p, name in zip(net.params, net.param_names)]
    elif len(params) != len(net.params) or any(
            np.shape(v) != p.shape for v, p in zip(params, net.params)):
        raise ValueError("params must be arrays of Values with the shapes "
                         f"of net.params: {[p.shape for p in net.params]}")
    A = np.vectorize(Value, otypes=[object])(X)
    Zs = []
    n_layers = len(net.layers)
    for l in range(n_layers):
        W, b = params[2 * l], params[2 * l + 1]
        n_in, n_out = W.shape
        Z = np.empty((A.shape[0], n_out), dtype=object)
        for n in range(A.shape[0]):
            for j in range(n_out):
                # z_nj = sum_i a_ni w_ij + b_j
                Z[n, j] = vsum([A[n, i] * W[i, j] for i in range(n_in)]
                               + [b[j]])
        Zs.append(Z)
        name = net.output if l == n_layers - 1 else net.hidden
        A = _activate(Z, name)
    return Zs, A, params


def _activate(Z: np.ndarray, name: str) -> np.ndarray:
    """f(Z) on an (N, n) object array of Values, for the package's
    activation names."""
    if name == "identity":
        return Z
    if name == "softmax":
        return np.array([_softmax_row(row) for row in Z], dtype=object)
    return np.vectorize(lambda v: getattr(v, name)(), otypes=[object])(Z)


def _log_softmax_row(row) -> list[Value]:
    """log softmax of one row of Values by log-sum-exp, as
    ``backprop.losses.log_softmax``.

    The shift m = max z_k is a constant: log softmax does not change when
    every z_k moves by the same amount, so the true derivative through m is
    zero anyway.
    """
    m = max(v.data for v in row)
    shifted = [v - m for v in row]
    lse = vsum([s.exp() for s in shifted]).log()
    return [s - lse for s in shifted]


def _softmax_row(row) -> list[Value]:
    m = max(v.data for v in row)
    e = [(v - m).exp() for v in row]
    total = vsum(e)
    return [ek / total for ek in e]


def mlp_loss(net, X, Y, params=None):
    """The loss E of ``net`` on (X, Y) as a Value graph, the same function
    as ``net.loss``.

    X: (N, n_0). Y: (N, n_L) targets, or integer labels (N,) for
    cross-entropy. E is a mean over the N samples, exactly as in
    :mod:`backprop.losses`:

    * mse: 1/(2N) sum (a - y)^2 over every output of every sample (eq-mse);
    * bce: 1/N sum [softplus(z) - z y] on the logits z (the stable form of
      eq-bce);
    * cross_entropy: -1/N sum y log softmax(z), by log-sum-exp
      (eq-softmax-ce).

    Returns ``(E, params, Zs)``: the loss Value, the leaf Values of the
    parameters (aligned with ``net.params``) and the pre-activation Values
    [Z[1], ..., Z[L]]; after ``E.backward()`` the grads of Zs[l-1] are the
    error signals delta[l] = dE/dZ[l].
    """
    _check_net(net)
    X = net._check_X(X)
    Y = net._check_Y(Y, X.shape[0])
    Zs, A, params = mlp_forward(net, X, params)
    Z = Zs[-1]
    n, k = Z.shape
    if net.loss_name == "cross_entropy" and Y.ndim == 1:
        Y = np.eye(k)[Y]                     # integer labels -> one-hot rows
    Y = Y.astype(np.float64)
    if net.loss_name == "mse":
        terms = [(A[i, j] - Y[i, j]) ** 2 for i in range(n) for j in range(k)]
        E = vsum(terms) / (2 * n)
    elif net.loss_name == "bce":
        terms = [Z[i, j].softplus() - Z[i, j] * Y[i, j]
                 for i in range(n) for j in range(k)]
        E = vsum(terms) / n
    else:  # cross_entropy
        terms = []
        for i in range(n):
            logp = _log_softmax_row(Z[i])
            terms += [logp[j] * Y[i, j] for j in range(k) if Y[i, j] != 0]
        E = -vsum(terms) / n
    return E, params, Zs


def mlp_loss_and_grads(net, X, Y):
    """Loss and gradients of ``net`` on (X, Y), computed by the scalar engine.

    The same quantity as ``net.loss_and_grads(X, Y)``, by another route:
    build the loss as a graph of :class:`Value` nodes, one per scalar, and
    call ``backward()``. Computes in float64 whatever the net's dtype.
    Returns ``(E, grads)`` with ``grads`` float64 arrays aligned with
    ``net.params`` (W[l]: (n_{l-1}, n_l), b[l]: (n_l,)). Far slower than the
    vectorized delta rule: a teaching and checking tool only.
    """
    E, params, _ = mlp_loss(net, X, Y)
    E.backward()
    grads = [np.vectorize(lambda v: v.grad, otypes=[np.float64])(p)
             for p in params]
    return E.data, grads
