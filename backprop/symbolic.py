"""Symbolic (SymPy) versions of the package's formulas.

The numerical core in the other modules never imports SymPy. This module states each
formula once more, symbolically, so the book can derive it on screen and the tests can
check the NumPy code against the SymPy result.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._validate import as_float_array, check_labels, check_name

z = sp.Symbol("z", real=True)

#: f(z) for each element-wise activation, as SymPy expressions in the real symbol ``z``.
ACTIVATION_EXPRS = {
    "identity": z,
    "sigmoid": 1 / (1 + sp.exp(-z)),
    "tanh": sp.tanh(z),
    "relu": sp.Max(0, z),
}


def activation_expr(name: str, var: sp.Symbol = z) -> sp.Expr:
    """f(var) for the activation ``name`` (identity, sigmoid, tanh or relu)."""
    check_name(name, ACTIVATION_EXPRS, "element-wise activation")
    return ACTIVATION_EXPRS[name].subs(z, var)


def activation_derivative(name: str, var: sp.Symbol = z) -> sp.Expr:
    """f'(var), differentiated by SymPy and simplified.

    For ReLU, SymPy answers with ``Heaviside(z)``, which SymPy defines as 1/2 at 0;
    the package uses 0 there (eq-relu-prime), so compare the two away from z = 0.
    """
    return sp.simplify(sp.diff(activation_expr(name, z), z)).subs(z, var)


def lambdify(expr: sp.Expr, var: sp.Symbol = z):
    """A NumPy function of one array argument that evaluates ``expr`` element-wise."""
    f = sp.lambdify(var, expr, modules="numpy")
    return lambda x: np.broadcast_to(f(np.asarray(x, dtype=np.float64)), np.shape(x)).astype(np.float64)


# ---------------------------------------------------------------------------------------
# A whole network, symbolically: every weight, bias, input and target is a SymPy symbol.
# ---------------------------------------------------------------------------------------

def _apply_activation(name: str, Z: sp.Matrix) -> sp.Matrix:
    """f(Z) for a SymPy matrix Z (N, n): element-wise, or row by row for softmax (eq-softmax)."""
    if name == "softmax":
        rows = []
        for n in range(Z.rows):
            exps = [sp.exp(Z[n, k]) for k in range(Z.cols)]
            total = sum(exps)
            rows.append([e / total for e in exps])
        return sp.Matrix(rows)
    return Z.applyfunc(lambda entry: activation_expr(name, entry))


def _loss_expr(loss: str, A_out: sp.Matrix, Z_out: sp.Matrix, Y: sp.Matrix) -> sp.Expr:
    """E as a mean over the N rows: eq-mse, eq-bce or eq-softmax-ce."""
    n = A_out.rows
    if loss == "mse":       # E = 1/(2N) sum (y - y_hat)^2
        return sum((Y[i] - A_out[i]) ** 2 for i in range(len(Y))) / (2 * n)
    if loss == "bce":       # E = -1/N sum [y log p + (1 - y) log(1 - p)]
        return -sum(Y[i] * sp.log(A_out[i]) + (1 - Y[i]) * sp.log(1 - A_out[i])
                    for i in range(len(Y))) / n
    # cross_entropy: E = -1/N sum y log softmax(z), log softmax(z)_k = z_k - log sum_j e^{z_j}
    total = 0
    for r in range(n):
        log_norm = sp.log(sum(sp.exp(Z_out[r, j]) for j in range(Z_out.cols)))
        total += sum(Y[r, k] * (Z_out[r, k] - log_norm) for k in range(Z_out.cols))
    return -total / n


def _symbol_matrix(rows: int, cols: int, name) -> sp.Matrix:
    """A (rows, cols) matrix of real symbols; ``name(i, j)`` (1-based) gives each name."""
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(name(i + 1, j + 1), real=True))


def _pair(i: int, j: int) -> str:
    """Subscript for entry (i, j): "12" for small indices, "1,12" once one has two digits
    (without the comma, w_{1,11} and w_{11,1} would both be named w_{111})."""
    return f"{i}{j}" if i < 10 and j < 10 else f"{i},{j}"


class SymbolicMLP:
    """A small fully connected network in which every quantity is a SymPy expression.

    Built by :func:`symbolic_mlp`; it follows the package's conventions exactly (the
    same as :class:`backprop.MLP`): rows are samples, layers are numbered 1..L, and
    dictionaries keyed by the layer number hold

    ``X``  (N, n_0) symbols ``x_{n i}`` (``x_i`` when N = 1); ``A[0]`` is ``X``;
    ``Y``  (N, n_L) symbols ``y_{n k}`` (``y_k`` when N = 1);
    ``W[l]`` (n_{l-1}, n_l) symbols ``w^{[l]}_{i j}``; ``b[l]`` (1, n_l) symbols ``b^{[l]}_{j}``;
    ``Z[l] = A[l-1] W[l] + b[l]`` (eq-forward-batch) and ``A[l] = f(Z[l])``;
    ``E`` the loss, a mean over the N rows (eq-mse, eq-bce, eq-softmax-ce).

    Nothing is simplified: the expressions are the forward pass written out in full,
    so differentiating ``E`` with :meth:`grad` is the brute-force chain rule.
    """

    def __init__(self, sizes, hidden, output, loss, n_samples):
        self.sizes, self.hidden, self.output, self.loss = sizes, hidden, output, loss
        self.n_samples = n_samples
        N, L = n_samples, len(sizes) - 1
        if N == 1:
            self.X = _symbol_matrix(1, sizes[0], lambda n, i: f"x_{{{i}}}")
            self.Y = _symbol_matrix(1, sizes[-1], lambda n, k: f"y_{{{k}}}")
        else:
            self.X = _symbol_matrix(N, sizes[0], lambda n, i: f"x_{{{_pair(n, i)}}}")
            self.Y = _symbol_matrix(N, sizes[-1], lambda n, k: f"y_{{{_pair(n, k)}}}")
        self.W, self.b, self.Z, self.A = {}, {}, {}, {0: self.X}
        for l in range(1, L + 1):
            self.W[l] = _symbol_matrix(sizes[l - 1], sizes[l], lambda i, j, l=l: f"w^{{[{l}]}}_{{{_pair(i, j)}}}")
            self.b[l] = _symbol_matrix(1, sizes[l], lambda _, j, l=l: f"b^{{[{l}]}}_{{{j}}}")
            self.Z[l] = self._affine(l, self.A[l - 1])
            self.A[l] = _apply_activation(self.activation_name(l), self.Z[l])
        self.E = _loss_expr(loss, self.A[L], self.Z[L], self.Y)
        self._grad_fn = None

    @property
    def n_layers(self) -> int:
        """L, the number of layers with weights."""
        return len(self.sizes) - 1

    def activation_name(self, l: int) -> str:
        """The activation of layer l: ``output`` for l = L, ``hidden`` otherwise."""
        return self.output if l == self.n_layers else self.hidden

    def _affine(self, l: int, A_prev: sp.Matrix) -> sp.Matrix:
        ones = sp.ones(A_prev.rows, 1)
        return A_prev * self.W[l] + ones * self.b[l]

    @property
    def params(self) -> list[sp.Matrix]:
        """[W[1], b[1], ..., W[L], b[L]], aligned with :attr:`backprop.MLP.params`."""
        return [m for l in range(1, self.n_layers + 1) for m in (self.W[l], self.b[l])]

    def grad(self, M: sp.Matrix) -> sp.Matrix:
        """dE/dM entry by entry, by brute-force differentiation of E; M's shape."""
        if not isinstance(M, sp.MatrixBase) or not all(isinstance(s, sp.Symbol) for s in M):
            raise TypeError("grad expects a matrix of this network's symbols, such as net.W[1]")
        return M.applyfunc(lambda s: sp.diff(self.E, s))

    def _check_layer(self, l) -> int:
        L = self.n_layers
        if isinstance(l, bool) or not isinstance(l, (int, np.integer)) or not 1 <= l <= L:
            raise ValueError(f"layer l must be an integer in 1..{L}; got {l!r}")
        return int(l)

    def placeholders(self, l: int, letter: str = "s") -> sp.Matrix:
        """Fresh real symbols ``letter_{nj}`` (N, n_l), the shape of Z[l] and A[l].

        Z[l] is an expression, not a symbol, so SymPy cannot differentiate with respect
        to it; a matrix of placeholders can stand in for it (see :meth:`forward_from`).
        """
        l = self._check_layer(l)
        if not isinstance(letter, str) or not letter.isalpha():
            raise ValueError(f"letter must be a name made of letters, like 's'; got {letter!r}")
        return _symbol_matrix(self.n_samples, self.sizes[l],
                              lambda n, j: f"{letter}_{{{_pair(n, j)}}}")

    def forward_from(self, l: int, Z_l: sp.Matrix) -> dict:
        """The forward pass continued from a given pre-activation of layer l.

        ``Z_l`` (N, n_l) replaces Z[l]; returns ``{k: (Z[k], A[k])}`` for k = l..L, with
        A[k] = f(Z[k]) and Z[k+1] = A[k] W[k+1] + b[k+1] (eq-forward-batch). With
        placeholders for ``Z_l`` this is the rest of the network as a function of Z[l].
        """
        l = self._check_layer(l)
        if not isinstance(Z_l, sp.MatrixBase) or Z_l.shape != self.Z[l].shape:
            raise ValueError(f"Z_l must be a SymPy matrix of shape {self.Z[l].shape}; got "
                             f"{getattr(Z_l, 'shape', type(Z_l).__name__)}")
        out = {l: (Z_l, _apply_activation(self.activation_name(l), Z_l))}
        for k in range(l + 1, self.n_layers + 1):
            Z = self._affine(k, out[k - 1][1])
            out[k] = (Z, _apply_activation(self.activation_name(k), Z))
        return out

    def delta(self, l: int) -> sp.Matrix:
        """delta[l] = dE/dZ[l] (N, n_l), by brute force.

        Z[l] is an expression, not a symbol, so we add a matrix S of fresh symbols to it,
        run the rest of the forward pass and the loss from Z[l] + S, differentiate E with
        respect to each entry of S and set S = 0: the definition of dE/dZ[l], with no
        recursion (compare eq-delta-out and eq-delta-hidden).
        """
        l = self._check_layer(l)
        S = self.placeholders(l, "s")
        Z, A = self.forward_from(l, self.Z[l] + S)[self.n_layers]
        E = _loss_expr(self.loss, A, Z, self.Y)
        at_zero = {s: 0 for s in S}
        return S.applyfunc(lambda s: sp.diff(E, s).subs(at_zero))

    def loss_of_outputs(self, A_out: sp.Matrix) -> sp.Expr:
        """E as a function of output activations ``A_out`` (N, n_L), e.g. placeholders.

        The same loss as :attr:`E`, a mean over the rows, written in A[L] rather than
        Z[L]: MSE 1/(2N) sum (y - a)^2; BCE -1/N sum [y log a + (1 - y) log(1 - a)];
        cross-entropy -1/N sum y log a with a = softmax(z). Its derivatives are the
        dE/da of eq-delta-out.
        """
        if not isinstance(A_out, sp.MatrixBase) or A_out.shape != self.Y.shape:
            raise ValueError(f"A_out must be a SymPy matrix of shape {self.Y.shape}; got "
                             f"{getattr(A_out, 'shape', type(A_out).__name__)}")
        if self.loss == "cross_entropy":
            n, Y = A_out.rows, self.Y
            return -sum(Y[i] * sp.log(A_out[i]) for i in range(len(Y))) / n
        return _loss_expr(self.loss, A_out, None, self.Y)

    # ---------------------------------------------------------------- numbers
    def _check_numbers(self, params, X, Y):
        params = list(params)
        expected = [m.shape for m in self.params]
        if len(params) != len(expected):
            raise ValueError(f"params must hold {len(expected)} arrays [W1, b1, ...]; got {len(params)}")
        arrays = []
        for name, p, (r, c) in zip(self._param_names(), params, expected):
            p = as_float_array(p, name)
            want = (c,) if name.startswith("b") else (r, c)    # b[l] as in MLP.params
            if p.shape != want:
                raise ValueError(f"{name} must have shape {want}; got {p.shape}")
            arrays.append(p)
        X = as_float_array(X, "X", ndim=2)
        if X.shape != self.X.shape:
            raise ValueError(f"X must have shape {self.X.shape} for this symbolic network; got {X.shape}")
        Y_arr = np.asarray(Y)
        if self.loss == "cross_entropy" and Y_arr.ndim == 1:   # class labels -> one-hot rows
            labels = check_labels(Y_arr, self.sizes[-1], "Y (class labels)")
            Y_arr = np.eye(self.sizes[-1])[labels]
        Y_arr = as_float_array(Y_arr, "Y", ndim=2)
        if Y_arr.shape != self.Y.shape:
            raise ValueError(f"Y must have shape {self.Y.shape} for this symbolic network; got {Y_arr.shape}")
        return arrays, X, Y_arr

    def _param_names(self):
        from .network import param_names

        return param_names(self.n_layers)

    def substitutions(self, params, X, Y) -> dict:
        """{symbol: float} for every symbol, from numeric ``params`` [W1, b1, ...]
        (e.g. ``MLP.params``, b[l] of shape (n_l,)), X (N, n_0) and Y (N, n_L)."""
        arrays, X, Y = self._check_numbers(params, X, Y)
        values = {}
        for M, arr in zip([*self.params, self.X, self.Y], [*arrays, X, Y]):
            values.update(zip(M, arr.reshape(-1).tolist()))
        return values

    def evaluate(self, params, X, Y):
        """(E, [dE/dW1, dE/db1, ...]) as floats, from the brute-force derivatives of E.

        The gradients have the shapes of :attr:`backprop.MLP.params` (b[l] as (n_l,)), so
        they compare directly with :meth:`backprop.MLP.loss_and_grads` (eq-grad-W, eq-grad-b).
        The derivatives are taken and compiled (lambdify) once per network, then reused.
        """
        values = self.substitutions(params, X, Y)
        if self._grad_fn is None:
            self._symbols = list(values)
            exprs = [self.E] + [sp.diff(self.E, s) for M in self.params for s in M]
            self._grad_fn = sp.lambdify(self._symbols, exprs, modules="numpy", cse=True)
        out = [float(v) for v in self._grad_fn(*[values[s] for s in self._symbols])]
        E, flat = out[0], np.array(out[1:])
        grads, start = [], 0
        for name, M in zip(self._param_names(), self.params):
            g = flat[start:start + len(M)].reshape(M.shape)
            grads.append(g.reshape(-1) if name.startswith("b") else g)
            start += len(M)
        return E, grads


def symbolic_mlp(sizes, hidden="sigmoid", output="sigmoid", loss="mse", n_samples=1) -> SymbolicMLP:
    """Build a :class:`SymbolicMLP`: the network ``MLP(sizes, hidden, output, loss)`` with
    symbols in place of numbers, for a batch of ``n_samples`` rows.

    The same choices as :class:`backprop.MLP` are valid: hidden in identity, sigmoid, tanh,
    relu; output in identity, sigmoid, softmax; ``bce`` needs a sigmoid output and
    ``cross_entropy`` a softmax output, while ``mse`` takes any output. Keep it tiny: the
    expressions grow with every layer and every sample (sizes like [2, 3, 2, 1]).
    """
    from .network import check_architecture

    sizes, hidden, output, loss = check_architecture(sizes, hidden, output, loss)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise TypeError(f"n_samples must be an integer; got {n_samples!r}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1; got {n_samples}")
    return SymbolicMLP(sizes, hidden, output, loss, int(n_samples))


def brute_force_gradients(net: SymbolicMLP, params, X, Y) -> list[np.ndarray]:
    """[dE/dW1, dE/db1, ...] as float64 arrays: ``net.evaluate(params, X, Y)[1]``."""
    if not isinstance(net, SymbolicMLP):
        raise TypeError(f"net must be a SymbolicMLP from symbolic_mlp(...); got {type(net).__name__}")
    return net.evaluate(params, X, Y)[1]
