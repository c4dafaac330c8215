"""Tests for backprop.engine, the scalar reverse-mode autodiff engine.

References used here are independent of the engine: central differences in
float64 (h = 1e-6; for smooth functions their error is about
h^2 |f'''| + eps |f| / h, well below the stated 1e-8 relative threshold),
closed-form derivatives, and the package's vectorized delta rule
``MLP.loss_and_grads`` (which computes the same numbers by another route, so
there the threshold is rounding level, 1e-12).
"""

import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop
from backprop import MLP
from backprop.activations import get_activation
from backprop.engine import (Value, mlp_forward, mlp_loss, mlp_loss_and_grads,
                             vsum, zero_grad)
from backprop.gradcheck import relative_error

H = 1e-6
FD_TOL = 1e-8        # engine vs central differences, relative error, float64
# engine vs vectorized delta rule: the same math, rounding only
SAME_TOL = 1e-12


def central(f, x, h=H):
    return (f(x + h) - f(x - h)) / (2 * h)


def engine_grad(op, x):
    """d op(x)/dx by the engine, at the float x."""
    v = Value(x)
    op(v).backward()
    return v.grad


# ---------------------------------------------------------- unary operations
UNARY = {
    # name: (engine op on a Value, the same function on a float,
    #        points where it is smooth)
    "neg": (lambda v: -v, lambda x: -x, [-2.0, 0.3, 5.0]),
    "exp": (lambda v: v.exp(), math.exp, [-3.0, 0.0, 0.7, 4.0]),
    "log": (lambda v: v.log(), math.log, [0.05, 1.0, 3.5]),
    "tanh": (lambda v: v.tanh(), math.tanh, [-2.5, -0.1, 0.0, 1.3]),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x)),
                [-4.0, -0.5, 0.0, 2.0]),
    "relu": (lambda v: v.relu(), lambda x: max(x, 0.0),
             [-1.5, -1e-3, 1e-3, 2.0]),
    "softplus": (lambda v: v.softplus(), lambda x: math.log1p(math.exp(x)),
                 [-5.0, 0.0, 0.4, 6.0]),
    "pow2": (lambda v: v ** 2, lambda x: x ** 2, [-1.5, 0.0, 2.0]),
    "pow3": (lambda v: v ** 3, lambda x: x ** 3, [-1.2, 0.5, 2.0]),
    "pow-1": (lambda v: v ** -1, lambda x: x ** -1, [-2.0, 0.5, 3.0]),
    "pow0.5": (lambda v: v ** 0.5, math.sqrt, [0.1, 1.0, 4.0]),
    "pow2.5": (lambda v: v ** 2.5, lambda x: x ** 2.5, [0.2, 1.0, 3.0]),
    "radd": (lambda v: 2.0 + v, lambda x: 2.0 + x, [-1.0, 3.0]),
    "rsub": (lambda v: 2.0 - v, lambda x: 2.0 - x, [-1.0, 3.0]),
    "rmul": (lambda v: 3 * v, lambda x: 3 * x, [-1.0, 3.0]),
    "rtruediv": (lambda v: 3.0 / v, lambda x: 3.0 / x, [-1.0, 0.4, 3.0]),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_and_local_derivative(name):
    op, f, points = UNARY[name]
    for x in points:
        assert op(Value(x)).data == pytest.approx(f(x), rel=1e-15, abs=1e-300)
    eng = np.array([engine_grad(op, x) for x in points])
    num = np.array([central(f, x) for x in points])
    assert relative_error(eng, num) < FD_TOL, (name, eng, num)


BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_local_derivatives(name):
    op = BINARY[name]
    for a, b in [(1.5, -0.7), (-2.0, 3.0), (0.3, 0.9)]:
        va, vb = Value(a), Value(b)
        out = op(va, vb)
        assert out.data == op(a, b)
        out.backward()
        da = central(lambda t: op(t, b), a)
        db = central(lambda t: op(a, t), b)
        err = relative_error([va.grad, vb.grad], [da, db])
        assert err < FD_TOL, (name, a, b)


def test_sigmoid_matches_package_and_is_stable():
    pkg = get_activation("sigmoid")
    for x in [-1000.0, -750.0, -3.0, 0.0, 2.0, 750.0, 1000.0]:
        v = Value(x)
        s = v.sigmoid()
        s.backward()
        assert s.data == pytest.approx(float(pkg.forward(x)),
                                       rel=1e-15, abs=1e-300)
        assert v.grad == pytest.approx(float(pkg.derivative(x)),
                                       rel=1e-12, abs=1e-300)
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


def test_relu_derivative_is_zero_at_zero_like_the_package():
    v = Value(0.0)
    v.relu().backward()
    pkg = get_activation("relu")
    assert v.grad == 0.0 == float(pkg.derivative(np.array(0.0)))


def test_softplus_is_stable_and_smooth_at_zero():
    # log(1 + e^800) = 800 in float64
    assert Value(800.0).softplus().data == 800.0
    assert Value(-800.0).softplus().data == 0.0
    v = Value(0.0)
    v.softplus().backward()
    assert v.grad == 0.5                                   # sigma(0): no kink


@settings(max_examples=40, deadline=None)
@given(st.floats(-2, 2), st.floats(0.2, 2))
def test_composite_expression_against_central_differences(x, y):
    def f(a, b):
        inner = (a * b + b / (1 + a * a)).tanh() * (a - b).sigmoid()
        return (inner + (b ** 1.5).log()).exp()

    def f_float(a, b):
        s = 1 / (1 + math.exp(-(a - b)))
        inner = math.tanh(a * b + b / (1 + a * a)) * s
        return math.exp(inner + math.log(b ** 1.5))

    vx, vy = Value(x), Value(y)
    out = f(vx, vy)
    assert out.data == pytest.approx(f_float(x, y), rel=1e-13)
    out.backward()
    num = [central(lambda t: f_float(t, y), x),
           central(lambda t: f_float(x, t), y)]
    assert relative_error([vx.grad, vy.grad], num) < FD_TOL


# ----------------------------------------------------------- reuse and order
def test_reused_node_gets_every_contribution():
    x = Value(3.0)
    (x * x).backward()
    # d(x^2)/dx = 2x, not x
    assert x.grad == 6.0
    a = Value(-1.25)
    (a + a).backward()
    assert a.grad == 2.0
    z = Value(0.5)
    (z * z * z + 4 * z).backward()
    assert z.grad == pytest.approx(3 * 0.5 ** 2 + 4, rel=1e-15)


def diamond():
    """x -> y = x^2 -> (p = 3y, q = exp(y)) -> L = p * q.

    y is used twice, and it has a parent x: y must hand on its gradient only
    after both p and q have added their shares.
    dL/dx = (3 e^y + 3y e^y) * 2x.
    """
    x = Value(0.7, label="x")
    y = x * x
    p = 3 * y
    q = y.exp()
    L = p * q
    return x, y, L


def naive_depth_first_backward(out):
    """A wrong backward pass: visit nodes once each in depth-first *pre*-order
    from the output, passing each node's gradient on when first reached (not
    topological)."""
    out.grad = 1.0
    seen = set()

    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * node.grad
        for parent in node.parents:
            visit(parent)

    visit(out)


def test_diamond_needs_topological_order():
    x, y, L = diamond()
    L.backward()
    xv = 0.7
    yv = xv * xv
    exact = (3 * math.exp(yv) + 3 * yv * math.exp(yv)) * 2 * xv
    assert x.grad == pytest.approx(exact, rel=1e-14)
    f = lambda t: 3 * t * t * math.exp(t * t)
    assert relative_error([x.grad], [central(f, xv)]) < FD_TOL
    # the topological order puts every node after all of its parents
    order = L.topological_order()
    pos = {id(n): i for i, n in enumerate(order)}
    assert len(pos) == len(order) and order[-1] is L
    for n in order:
        assert all(pos[id(p)] < pos[id(n)] for p in n.parents)
    # the naive order hands y's gradient on before q has contributed:
    # wrong answer
    x2, y2, L2 = diamond()
    naive_depth_first_backward(L2)
    assert abs(x2.grad - exact) > 0.1 * abs(exact)
    # y itself ends up right, too late
    assert y2.grad == pytest.approx(y.grad, rel=1e-14)


def test_deep_graph_does_not_hit_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_backward_twice_doubles_leaf_grads_until_zeroed():
    x, y, L = diamond()
    L.backward()
    once_x, once_y = x.grad, y.grad
    # no zeroing in between
    L.backward()
    # leaves accumulate ...
    assert x.grad == 2 * once_x
    # ... interior nodes are fresh
    assert y.grad == once_y
    L.zero_grad()
    assert x.grad == 0.0 and y.grad == 0.0 and L.grad == 0.0
    L.backward()
    assert x.grad == once_x
    zero_grad([x])
    assert x.grad == 0.0


def test_vsum_is_one_node_with_unit_local_derivatives():
    xs = [Value(float(i)) for i in range(5)]
    s = vsum(xs + [2.5])
    assert s.data == 12.5 and s.op == "sum" and len(s.parents) == 6
    (s * s).backward()
    assert all(x.grad == 2 * 12.5 for x in xs)


def test_repr_has_no_memory_address():
    assert repr(Value(1.5)) == "Value(data=1.5, grad=0)"


# ------------------------------------------------------------ whole networks
COMBOS = [("identity", "mse"), ("sigmoid", "mse"), ("softmax", "mse"),
          ("sigmoid", "bce"), ("softmax", "cross_entropy")]


def make_problem(hidden, output, loss, sizes=(3, 4, 3, 2), n=5, k=0):
    rng = np.random.default_rng(backprop.SEED + k)
    net = MLP(list(sizes), hidden=hidden, output=output, loss=loss,
              seed=backprop.SEED + k)
    # non-zero biases: test them too
    for b in net.params[1::2]:
        b[:] = rng.normal(scale=0.3, size=b.shape)
    X = rng.normal(size=(n, sizes[0]))
    if loss == "cross_entropy":
        Y = rng.integers(0, sizes[-1], size=n)
    elif loss == "bce":
        Y = rng.integers(0, 2, size=(n, sizes[-1])).astype(float)
    else:
        Y = rng.normal(size=(n, sizes[-1]))
    return net, X, Y


@pytest.mark.parametrize("hidden", ["identity", "sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("output,loss", COMBOS)
def test_engine_equals_vectorized_delta_rule(hidden, output, loss):
    for k, sizes in enumerate([(3, 4, 3, 2), (2, 3, 3)]):
        net, X, Y = make_problem(hidden, output, loss, sizes=sizes, k=k)
        before = [p.copy() for p in net.params]
        E_ref, g_ref = net.loss_and_grads(X, Y)
        g_ref = [g.copy() for g in g_ref]
        E_eng, g_eng = mlp_loss_and_grads(net, X, Y)
        assert abs(E_eng - E_ref) <= SAME_TOL * abs(E_ref)
        assert len(g_eng) == len(net.params)
        for name, a, b, p in zip(net.param_names, g_eng, g_ref, net.params):
            assert a.shape == p.shape and a.dtype == np.float64
            err = relative_error(a, b)
            assert err < SAME_TOL, (hidden, output, loss, name, err)
        assert all(np.array_equal(p, q) for p, q in zip(net.params, before))


def test_engine_cross_entropy_accepts_one_hot_and_soft_targets():
    net, X, labels = make_problem("tanh", "softmax", "cross_entropy")
    onehot = np.eye(2)[labels]
    soft = 0.8 * onehot + 0.1
    for Y in (onehot, soft):
        E_ref, g_ref = net.loss_and_grads(X, Y)
        g_ref = [g.copy() for g in g_ref]
        E_eng, g_eng = mlp_loss_and_grads(net, X, Y)
        assert abs(E_eng - E_ref) <= SAME_TOL * abs(E_ref)
        assert all(relative_error(a, b) < SAME_TOL
                   for a, b in zip(g_eng, g_ref))


def test_engine_forward_matches_net_forward():
    net, X, _ = make_problem("relu", "softmax", "cross_entropy")
    Zs, A, params = mlp_forward(net, X)
    A_net = net.forward(X)
    data = np.vectorize(lambda v: v.data, otypes=[np.float64])
    assert np.allclose(data(A), A_net, rtol=1e-14, atol=0)
    for Z, layer in zip(Zs, net.layers):
        assert np.allclose(data(Z), layer.Z, rtol=1e-13, atol=1e-15)
    assert [p.shape for p in params] == [p.shape for p in net.params]


@pytest.mark.parametrize("hidden,output,loss",
                         [("sigmoid", "identity", "mse"),
                          ("relu", "softmax", "cross_entropy"),
                          ("tanh", "sigmoid", "bce")])
def test_engine_grads_of_Z_are_the_deltas(hidden, output, loss):
    net, X, Y = make_problem(hidden, output, loss)
    E, params, Zs = mlp_loss(net, X, Y)
    E.backward()
    net.loss_and_grads(X, Y)
    grad = np.vectorize(lambda v: v.grad, otypes=[np.float64])
    for Z, delta in zip(Zs, net.deltas):
        assert relative_error(grad(Z), delta) < SAME_TOL


def test_engine_gradient_against_central_differences():
    net, X, Y = make_problem("sigmoid", "sigmoid", "bce", sizes=(2, 3, 1))
    _, g_eng = mlp_loss_and_grads(net, X, Y)
    for p, g in zip(net.params, g_eng):
        num = backprop.numerical_gradient(lambda: net.loss(X, Y), p)
        assert relative_error(g, num) < FD_TOL


# ----------------------------------------------------------------- bad input
def test_bad_values_raise_clear_errors():
    with pytest.raises(TypeError, match="real number"):
        Value("1.0")
    with pytest.raises(TypeError, match="real number"):
        Value(True)
    with pytest.raises(TypeError, match="real number"):
        Value(1 + 2j)
    with pytest.raises(ValueError, match="finite"):
        Value(float("nan"))
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)
    x = Value(2.0)
    with pytest.raises(TypeError, match="unsupported operand"):
        x + "a"
    with pytest.raises(TypeError, match="unsupported operand"):
        [1.0] * x
    with pytest.raises(TypeError, match="constant"):
        x ** Value(2.0)
    with pytest.raises(TypeError, match="constant power"):
        2 ** x
    with pytest.raises(ValueError, match="positive"):
        Value(0.0).log()
    with pytest.raises(ValueError, match="division"):
        x / Value(0.0)
    with pytest.raises(ValueError, match="division"):
        1.0 / Value(0.0)
    with pytest.raises(ValueError, match="not a real number"):
        Value(-2.0) ** 0.5
    with pytest.raises(ValueError, match="divides by zero"):
        Value(0.0) ** -1
    with pytest.raises(ValueError, match="infinite"):
        Value(0.0) ** 0.5
    with pytest.raises(ValueError, match="overflow"):
        Value(710.0).exp()
    with pytest.raises(ValueError, match="overflow"):
        Value(1e200) * Value(1e200)
    with pytest.raises(ValueError, match="at least one"):
        vsum([])
    with pytest.raises(TypeError, match="Values"):
        zero_grad([x, 1.0])


def test_bad_network_input_raises_clear_errors():
    net, X, Y = make_problem("tanh", "identity", "mse")
    with pytest.raises(TypeError, match="backprop.MLP"):
        mlp_loss_and_grads("not a net", X, Y)
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        mlp_loss_and_grads(net, X[:, :2], Y)
    with pytest.raises(ValueError, match="Y must have shape"):
        mlp_loss_and_grads(net, X, Y[:3])
    with pytest.raises(ValueError, match="finite"):
        mlp_loss_and_grads(net, np.full_like(X, np.nan), Y)
    with pytest.raises(ValueError, match="params must be"):
        mlp_loss(net, X, Y, params=[np.empty((1, 1), dtype=object)])
    net_ce, X_ce, _ = make_problem("tanh", "softmax", "cross_entropy")
    with pytest.raises(ValueError, match="0..1"):
        mlp_loss_and_grads(net_ce, X_ce, np.array([0, 1, 2, 0, 1]))
