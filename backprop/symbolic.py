"""Symbolic (SymPy) versions of the package's formulas.

The numerical core in the other modules never imports SymPy. This module states each
formula once more, symbolically, so the book can derive it on screen and the tests can
check the NumPy code against the SymPy result.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._validate import check_name

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
