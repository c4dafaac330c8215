"""Every backward rule of backprop.vjp against central differences, and the
checker against rules that are wrong on purpose.

Threshold: relative error (eq-rel-error) below TOL = 1e-7 in float64, with
the fourth-order central difference (step 1e-4) that check_vjp uses. Measured
errors are about 1e-12; a wrong rule gives errors of order 0.1 to 1.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from backprop import vjp as V
from backprop.activations import get_activation
from backprop.layers import Dense
from backprop.losses import log_softmax

TOL = 1e-7
SEEDS = [0, 1, 2]


def shape(rng, ndim, low=1, high=5):
    return tuple(int(n) for n in rng.integers(low, high, size=ndim))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name -> function(rng) returning (forward, backward, inputs), shapes random
def case_matmul(rng):
    n, k, m = shape(rng, 3)
    return (lambda a, b: a @ b, V.matmul_vjp,
            [rng.normal(size=(n, k)), rng.normal(size=(k, m))])


def case_matmul_batched(rng):
    b, n, k, m = shape(rng, 4)
    # B is shared by the whole batch: broadcast forward, summed backward
    return (lambda a, w: a @ w, V.matmul_vjp,
            [rng.normal(size=(b, n, k)), rng.normal(size=(k, m))])


def case_bias(rng):
    n, m = shape(rng, 2)
    return (lambda z, c: z + c,
            lambda G, z, c: V.add_vjp(G, z.shape, c.shape),
            [rng.normal(size=(n, m)), rng.normal(size=(m,))])


def case_mul(rng):
    n, m = shape(rng, 2)
    return (lambda a, c: a * c, V.mul_vjp,
            [rng.normal(size=(n, m)), rng.normal(size=(n, 1))])


def case_sum(rng):
    x = rng.normal(size=shape(rng, 3))
    return (lambda x: x.sum(axis=(0, 2)),
            lambda G, x: V.sum_vjp(G, x.shape, axis=(0, 2)), [x])


def case_sum_all(rng):
    x = rng.normal(size=shape(rng, 2))
    return lambda x: x.sum(), lambda G, x: V.sum_vjp(G, x.shape), [x]


def case_mean(rng):
    x = rng.normal(size=shape(rng, 3))
    return (lambda x: x.mean(axis=1, keepdims=True),
            lambda G, x: V.mean_vjp(G, x.shape, axis=1, keepdims=True), [x])


def case_reshape(rng):
    x = rng.normal(size=shape(rng, 3))
    return (lambda x: x.reshape(-1), lambda G, x: V.reshape_vjp(G, x.shape),
            [x])


def case_transpose(rng):
    x = rng.normal(size=shape(rng, 3))
    return (lambda x: x.transpose(2, 0, 1),
            lambda G, x: V.transpose_vjp(G, (2, 0, 1)), [x])


def case_getitem(rng):
    x = rng.normal(size=shape(rng, 2))
    rows = rng.integers(0, x.shape[0], size=7)       # with repeats
    return (lambda x: x[rows], lambda G, x: V.getitem_vjp(G, x.shape, rows),
            [x])


def case_getitem_pairs(rng):
    x = rng.normal(size=shape(rng, 2, low=2))
    idx = (rng.integers(0, x.shape[0], 6), rng.integers(0, x.shape[1], 6))
    return (lambda x: x[idx], lambda G, x: V.getitem_vjp(G, x.shape, idx),
            [x])


def case_exp(rng):
    x = rng.normal(size=shape(rng, 2))
    return np.exp, lambda G, x: V.exp_vjp(G, np.exp(x)), [x]


def case_log(rng):
    x = rng.uniform(0.5, 2.0, size=shape(rng, 2))
    return np.log, V.log_vjp, [x]


def case_tanh(rng):
    x = rng.normal(size=shape(rng, 2))
    return np.tanh, lambda G, x: V.tanh_vjp(G, np.tanh(x)), [x]


def case_sigmoid(rng):
    x = rng.normal(size=shape(rng, 2))
    return sigmoid, lambda G, x: V.sigmoid_vjp(G, sigmoid(x)), [x]


def case_relu(rng):
    x = rng.normal(size=shape(rng, 2))
    x[np.abs(x) < 1e-2] = 0.5        # keep away from the kink at 0
    return (lambda x: np.maximum(x, 0),
            lambda G, x: V.relu_vjp(G, np.maximum(x, 0)), [x])


def case_max(rng):
    x = rng.normal(size=shape(rng, 3))
    return (lambda x: x.max(axis=1),
            lambda G, x: V.max_vjp(G, x, axis=1), [x])


def case_softmax(rng):
    x = rng.normal(size=shape(rng, 3))
    return (lambda x: V.softmax(x, axis=1),
            lambda G, x: V.softmax_vjp(G, V.softmax(x, axis=1), axis=1), [x])


def case_logsumexp(rng):
    x = 3 * rng.normal(size=shape(rng, 2))
    return (lambda x: V.logsumexp(x, axis=0),
            lambda G, x: V.logsumexp_vjp(G, x, axis=0), [x])


CASES = {name[5:]: f for name, f in globals().items()
         if name.startswith("case_")}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_matches_central_differences(name, seed):
    rng = np.random.default_rng(seed)
    forward, backward, inputs = CASES[name](rng)
    errors = V.check_vjp(forward, backward, inputs, rng)
    assert max(errors) < TOL, (name, errors)


@settings(max_examples=25, deadline=None)
@given(mutually_broadcastable_shapes(num_shapes=2, min_side=1, max_side=3,
                                     max_dims=3),
       st.integers(0, 2**32 - 1))
def test_mul_and_add_for_any_broadcast(shapes, seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = shapes.input_shapes
    a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
    assert max(V.check_vjp(lambda a, b: a * b, V.mul_vjp, [a, b], rng)) < TOL
    add = lambda G, a, b: V.add_vjp(G, a.shape, b.shape)  # noqa: E731
    assert max(V.check_vjp(lambda a, b: a + b, add, [a, b], rng)) < TOL


@settings(max_examples=25, deadline=None)
@given(mutually_broadcastable_shapes(num_shapes=2, min_side=1, max_side=3,
                                     max_dims=2),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 2**32 - 1))
def test_batched_matmul_for_any_batch_broadcast(shapes, n, k, m, seed):
    rng = np.random.default_rng(seed)
    batch_a, batch_b = shapes.input_shapes
    A = rng.normal(size=batch_a + (n, k))
    B = rng.normal(size=batch_b + (k, m))
    errors = V.check_vjp(lambda a, b: a @ b, V.matmul_vjp, [A, B], rng)
    assert max(errors) < TOL


def test_a_dense_layer_is_the_composition_of_the_rules():
    rng = np.random.default_rng(5)
    X, W = rng.normal(size=(6, 3)), rng.normal(size=(3, 4))
    b = rng.normal(size=4)
    layer = Dense(W, b, "tanh")
    A = layer.forward(X)
    G = rng.normal(size=A.shape)
    dX = layer.backward(G)
    delta = V.tanh_vjp(G, A)
    dXW, dW = V.matmul_vjp(delta, X, W)
    db = V.unbroadcast(delta, b.shape)
    np.testing.assert_allclose(delta, layer.delta, rtol=1e-14)
    np.testing.assert_allclose(dW, layer.dW, rtol=1e-14)
    np.testing.assert_allclose(db, layer.db, rtol=1e-14)
    np.testing.assert_allclose(dXW, dX, rtol=1e-14)


def test_forward_helpers_agree_with_the_package():
    rng = np.random.default_rng(6)
    z = 50 * rng.normal(size=(5, 4))
    np.testing.assert_allclose(V.softmax(z),
                               get_activation("softmax").forward(z),
                               rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(np.broadcast_to(V.logsumexp(z, keepdims=True),
                                               z.shape),
                               z - log_softmax(z), rtol=1e-12)
    big = np.array([1000.0, 1000.0])
    assert np.isclose(V.logsumexp(big), 1000 + np.log(2), rtol=1e-15)


def test_softmax_vjp_is_the_jacobian_transposed():
    rng = np.random.default_rng(7)
    s = V.softmax(rng.normal(size=5))
    g = rng.normal(size=5)
    J = np.diag(s) - np.outer(s, s)
    np.testing.assert_allclose(V.softmax_vjp(g, s), J.T @ g, rtol=1e-12)


def test_ties_share_the_gradient():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])
    G = np.array([6.0, 5.0])
    dx = V.max_vjp(G, x, axis=1)
    np.testing.assert_array_equal(dx, [[0, 3, 3], [5, 0, 0]])
    assert V.max_vjp(np.float64(1.0), np.full((2, 2), 7.0)).sum() == 1.0


def test_dtype_is_kept():
    x = np.ones((2, 3), dtype=np.float32)
    G = np.ones((2, 3), dtype=np.float32)
    assert V.tanh_vjp(G, x).dtype == np.float32
    assert V.unbroadcast(G, (3,)).dtype == np.float32
    assert V.getitem_vjp(G, (4, 3), [0, 0]).dtype == np.float32
    dA, dB = V.matmul_vjp(G, x, np.ones((3, 3), dtype=np.float32))
    assert dA.dtype == dB.dtype == np.float32


# ---------------------------------------------------- the checker catches bugs
def test_a_missing_transpose_is_caught():
    rng = np.random.default_rng(8)
    A, B = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))  # square: it runs

    def no_transpose(G, A, B):
        return G @ B, A.T @ G  # dA should be G B^T

    errors = V.check_vjp(lambda a, b: a @ b, no_transpose, [A, B], rng)
    assert errors[0] > 0.1 and errors[1] < TOL


def test_a_wrong_order_is_caught_by_the_shape_rule():
    rng = np.random.default_rng(9)
    A, B = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))

    def wrong(G, A, B):
        return G @ B.T, G.T @ A  # (2, 4), not (4, 2)

    with pytest.raises(ValueError, match="has shape"):
        V.check_vjp(lambda a, b: a @ b, wrong, [A, B], rng)


def test_an_unsummed_broadcast_is_caught():
    rng = np.random.default_rng(10)
    Z, c = rng.normal(size=(5, 3)), rng.normal(size=(3,))

    def bias_unsummed(G, z, c):
        return G, G  # db should sum rows

    def bias_averaged(G, z, c):
        return G, G.mean(axis=0)                             # mean, not sum

    with pytest.raises(ValueError, match="has shape"):
        V.check_vjp(lambda z, c: z + c, bias_unsummed, [Z, c], rng)
    errors = V.check_vjp(lambda z, c: z + c, bias_averaged, [Z, c], rng)
    assert errors[1] > 0.1


def test_an_overwriting_scatter_is_caught():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3, 2))
    rows = np.array([0, 2, 2, 2, 1])

    def scatter_overwrite(G, x):
        out = np.zeros_like(x)
        out[rows] += G  # the repeated row keeps one share
        return out

    errors = V.check_vjp(lambda x: x[rows], scatter_overwrite, [x], rng)
    assert errors[0] > 0.1


def test_a_softmax_rule_without_the_coupling_term_is_caught():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(3, 4))

    def diagonal_only(G, x):
        s = V.softmax(x)
        return G * s * (1 - s)                # only the diagonal of J

    errors = V.check_vjp(V.softmax, diagonal_only, [x], rng)
    assert errors[0] > 0.1


# ---------------------------------------------------- input checks
def test_shape_mismatches_raise_clear_errors():
    A, B = np.ones((3, 4)), np.ones((4, 2))
    with pytest.raises(ValueError, match="shape of A @ B"):
        V.matmul_vjp(np.ones((3, 3)), A, B)
    with pytest.raises(ValueError, match="share k"):
        V.matmul_vjp(np.ones((3, 2)), A, np.ones((3, 2)))
    with pytest.raises(ValueError, match="at least 2 axes"):
        V.matmul_vjp(np.ones(3), np.ones(4), B)
    with pytest.raises(ValueError, match="does not broadcast"):
        V.unbroadcast(np.ones((3, 4)), (3,))
    with pytest.raises(ValueError, match="shape of a \\* b"):
        V.mul_vjp(np.ones((2, 2)), np.ones((3, 1)), np.ones(2))
    with pytest.raises(ValueError, match="reduction"):
        V.sum_vjp(np.ones(4), (3, 4), axis=1)
    with pytest.raises(ValueError, match="out of range"):
        V.sum_vjp(np.ones(4), (3, 4), axis=2)
    with pytest.raises(ValueError, match="repeats"):
        V.mean_vjp(np.ones(()), (3, 4), axis=(1, -1))
    with pytest.raises(ValueError, match="entries"):
        V.reshape_vjp(np.ones(12), (5, 2))
    with pytest.raises(ValueError, match="permutation"):
        V.transpose_vjp(np.ones((2, 3)), (0, 0))
    with pytest.raises(ValueError, match="does not index"):
        V.getitem_vjp(np.ones(2), (3,), [0, 5])
    with pytest.raises(ValueError, match="shape of x\\[index\\]"):
        V.getitem_vjp(np.ones(3), (3,), [0, 1])
    with pytest.raises(ValueError, match="shape of y"):
        V.tanh_vjp(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="shape of S"):
        V.softmax_vjp(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="x > 0"):
        V.log_vjp(np.ones(2), np.array([1.0, 0.0]))


def test_bad_types_and_values_raise():
    with pytest.raises(TypeError, match="real numbers"):
        V.exp_vjp(np.array(["a"]), np.ones(1))
    with pytest.raises(ValueError, match="finite"):
        V.relu_vjp(np.array([np.nan]), np.ones(1))
    with pytest.raises(TypeError, match="tuple of"):
        V.unbroadcast(np.ones(3), (3.0,))
    with pytest.raises(TypeError, match="axis"):
        V.sum_vjp(np.ones(3), (3, 4), axis="rows")
    with pytest.raises(TypeError, match="Generator"):
        V.check_vjp(np.exp, V.exp_vjp, [np.ones(2)], 0)
    with pytest.raises(ValueError, match="positive"):
        V.check_vjp(np.exp, V.exp_vjp, [np.ones(2)],
                    np.random.default_rng(0), h=0)
    with pytest.raises(ValueError, match="gradients for"):
        V.check_vjp(lambda a, b: a @ b, lambda G, a, b: G @ b.T,
                    [np.ones((2, 2)), np.ones((2, 2))],
                    np.random.default_rng(0))
