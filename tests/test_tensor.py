"""The array engine backprop.tensor against central differences, NumPy
references, the MLP of Part I, and bad input.

Gradient threshold: relative error (eq-rel-error) below TOL = 1e-7 in
float64 against the fourth-order central difference with step 1e-4
(backprop.gradcheck.numerical_gradient) of E = sum(G * f(inputs)) for a
random G. Measured errors: median 6e-13, largest 5e-11 (rnn); a wrong
rule gives 1e-2 or more. The MLP rebuilt on the engine agrees with
MLP.loss_and_grads to 4e-16.
float32: the forward dtype stays float32 and gradients agree with float64
to F32_TOL = 1e-4 (float32's epsilon is 1.2e-7).
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import backprop.tensor as T
import backprop.vjp as V
from backprop import MLP
from backprop.gradcheck import numerical_gradient, relative_error
from backprop.tensor import Tensor

TOL = 1e-7
F32_TOL = 1e-4
FAST = settings(max_examples=5, deadline=None, derandomize=True,
                database=None)


# ------------------------------------------------------------- helpers
def engine_grads(f, arrays, G):
    """f on leaf tensors of ``arrays``, then backward of E = sum(G * y).
    Returns (y, [grad of each input])."""
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    y = f(*leaves)
    (y * G).sum().backward()
    return y, [t.grad for t in leaves]


def gradcheck(f, arrays, rng):
    """Relative errors, one per input, of the engine's gradients of
    E = sum(G * f(inputs)) against fourth-order central differences."""
    xs = [np.array(a, dtype=np.float64) for a in arrays]
    G = rng.standard_normal(f(*[Tensor(x) for x in xs]).shape)
    _, grads = engine_grads(f, xs, G)

    def energy():
        return float(np.sum(G * f(*[Tensor(x) for x in xs]).data))
    return [relative_error(g, numerical_gradient(energy, x, 1e-4, order=4))
            for x, g in zip(xs, grads)]


def dims(draw, n, low=1, high=4):
    return tuple(draw(st.integers(low, high)) for _ in range(n))


def away_from_zero(rng, shape, gap=0.1):
    """Normal entries pushed at least ``gap`` from 0 (no kink, no pole)."""
    x = rng.standard_normal(shape)
    return np.where(x >= 0, x + gap, x - gap)


def distinct(rng, shape):
    """Entries 0.1 apart in random order: no ties within the step."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 0.05 * n).reshape(shape)


# ----------------------------------------------- the cases (draw, rng)
# each returns (f, arrays): f takes Tensors (one per array), returns one
def case_add(draw, rng):
    s = draw(mutually_broadcastable_shapes(num_shapes=2, max_side=3))
    return (lambda a, b: a + b,
            [rng.standard_normal(x) for x in s.input_shapes])


def case_sub(draw, rng):
    s = draw(mutually_broadcastable_shapes(num_shapes=2, max_side=3))
    return (lambda a, b: a - b,
            [rng.standard_normal(x) for x in s.input_shapes])


def case_mul(draw, rng):
    s = draw(mutually_broadcastable_shapes(num_shapes=2, max_side=3))
    return (lambda a, b: a * b,
            [rng.standard_normal(x) for x in s.input_shapes])


def case_div(draw, rng):
    s = draw(mutually_broadcastable_shapes(num_shapes=2, max_side=3))
    a_shape, b_shape = s.input_shapes
    return (lambda a, b: a / b,
            [rng.standard_normal(a_shape), away_from_zero(rng, b_shape, 0.5)])


def case_numbers_and_arrays(draw, rng):
    n, m = dims(draw, 2)
    c = rng.standard_normal((n, m))     # an ndarray on either side
    return (lambda x: (2 - x) * c + 3 / x - c / x + x * 2.5 - (-x) + c - x,
            [away_from_zero(rng, (n, m), 0.5)])


def case_pow(draw, rng):
    p = draw(st.sampled_from([2, 3, -1, 0.5, 1.5, 0]))
    x = rng.uniform(0.5, 2.0, size=dims(draw, 2))
    return (lambda x: x ** p, [x])


def case_matmul(draw, rng):
    n, k, m = dims(draw, 3)
    return (lambda a, b: a @ b,
            [rng.standard_normal((n, k)), rng.standard_normal((k, m))])


def case_matmul_batched(draw, rng):
    s = draw(mutually_broadcastable_shapes(num_shapes=2, max_side=3,
                                           max_dims=2))
    n, k, m = dims(draw, 3)
    return (lambda a, b: a @ b,
            [rng.standard_normal(s.input_shapes[0] + (n, k)),
             rng.standard_normal(s.input_shapes[1] + (k, m))])


def case_ndarray_matmul_tensor(draw, rng):
    n, k, m = dims(draw, 3)
    A = rng.standard_normal((n, k))
    return (lambda b: A @ b, [rng.standard_normal((k, m))])


def case_sum(draw, rng):
    axis = draw(st.sampled_from([None, 0, -1, (0, 2), (1,)]))
    keep = draw(st.booleans())
    return (lambda x: x.sum(axis=axis, keepdims=keep),
            [rng.standard_normal(dims(draw, 3))])


def case_mean(draw, rng):
    axis = draw(st.sampled_from([None, 1, (0, 1)]))
    keep = draw(st.booleans())
    return (lambda x: x.mean(axis=axis, keepdims=keep),
            [rng.standard_normal(dims(draw, 3))])


def case_max(draw, rng):
    axis = draw(st.sampled_from([None, 0, 1]))
    return lambda x: x.max(axis=axis), [distinct(rng, dims(draw, 2))]


def case_exp(draw, rng):
    return lambda x: x.exp(), [rng.standard_normal(dims(draw, 2))]


def case_log(draw, rng):
    return lambda x: x.log(), [rng.uniform(0.5, 2, size=dims(draw, 2))]


def case_tanh(draw, rng):
    return lambda x: x.tanh(), [rng.standard_normal(dims(draw, 2))]


def case_sigmoid(draw, rng):
    return lambda x: x.sigmoid(), [3 * rng.standard_normal(dims(draw, 2))]


def case_relu(draw, rng):
    return lambda x: x.relu(), [away_from_zero(rng, dims(draw, 2))]


def case_reshape_transpose(draw, rng):
    a, b, c = dims(draw, 3)
    return (lambda x: x.reshape(c, a * b).T.reshape(b, a, c)
            .transpose(2, 0, 1), [rng.standard_normal((a, b, c))])


def case_getitem(draw, rng):
    a, b = dims(draw, 2, low=2)
    rows = rng.integers(-a, a, size=5)             # repeats, negatives
    keep = rng.random((a, b)) < 0.5                # a boolean mask
    return (lambda x: x[rows] * x[1:, ::-1].sum() + x[0, -1] + x[rows, :1]
            + x[keep].sum(), [rng.standard_normal((a, b))])


def case_softmax(draw, rng):
    axis = draw(st.sampled_from([0, 1, -1]))
    return (lambda x: T.softmax(x, axis=axis),
            [rng.standard_normal(dims(draw, 3))])


def case_log_softmax(draw, rng):
    axis = draw(st.sampled_from([0, -1]))
    return (lambda x: T.log_softmax(x, axis=axis),
            [rng.standard_normal(dims(draw, 2))])


def case_cross_entropy(draw, rng):
    n, k = dims(draw, 2)
    y = rng.integers(0, k, size=n)
    return (lambda z: T.cross_entropy(z, y),
            [2 * rng.standard_normal((n, k))])


def case_mse(draw, rng):
    shape = dims(draw, 2)
    return (T.mse, [rng.standard_normal(shape), rng.standard_normal(shape)])


def case_conv2d(draw, rng):
    n, c, f = dims(draw, 3, high=2)
    kh, kw = dims(draw, 2, high=3)
    stride, pad = draw(st.integers(1, 2)), draw(st.integers(0, 1))
    h, w = dims(draw, 2, low=3, high=5)
    xs = [rng.standard_normal((n, c, h, w)),
          rng.standard_normal((f, c, kh, kw))]
    if draw(st.booleans()):
        return (lambda x, w, b: T.conv2d(x, w, b, stride, pad),
                xs + [rng.standard_normal(f)])
    return lambda x, w: T.conv2d(x, w, stride=stride, padding=pad), xs


def case_max_pool2d(draw, rng):
    n, c = dims(draw, 2, high=2)
    s = draw(st.integers(1, 3))
    ho, wo = dims(draw, 2, high=2)
    return (lambda x: T.max_pool2d(x, s),
            [distinct(rng, (n, c, ho * s, wo * s))])


def case_batch_norm(draw, rng):
    # N >= 3: with N = 2 rows, xhat = +-1 whatever x is, so dE/dx is of
    # order eps and its relative error is round-off
    n, d = draw(st.integers(3, 5)), draw(st.integers(1, 4))
    return (T.batch_norm, [rng.standard_normal((n, d)),
                           rng.standard_normal(d), rng.standard_normal(d)])


def case_layer_norm(draw, rng):
    # D >= 3: with D = 2 entries, xhat = +-1 (see case_batch_norm)
    shape = dims(draw, 2) + (draw(st.integers(3, 5)),)
    d = shape[-1]
    return (T.layer_norm, [rng.standard_normal(shape),
                           rng.standard_normal(d), rng.standard_normal(d)])


def case_embedding(draw, rng):
    v, d = dims(draw, 2)
    idx = rng.integers(0, v, size=dims(draw, 2))     # with repeats
    return lambda w: T.embedding(w, idx), [rng.standard_normal((v, d))]


def case_attention(draw, rng):
    n, tq, tk, d, dv = dims(draw, 5, high=3)
    xs = [rng.standard_normal((n, tq, d)), rng.standard_normal((n, tk, d)),
          rng.standard_normal((n, tk, dv))]
    if not draw(st.booleans()):
        return T.attention, xs
    mask = rng.random((1, tq, tk)) < 0.6
    mask[..., 0] = True                              # every row attends
    return lambda q, k, v: T.attention(q, k, v, mask), xs


def case_rnn(draw, rng):
    t, n, d, h = dims(draw, 4, high=3)
    return (T.rnn, [rng.standard_normal((t, n, d)),
                    rng.standard_normal((n, h)),
                    rng.standard_normal((d, h)),
                    rng.standard_normal((h, h)), rng.standard_normal(h)])


def case_dropout(draw, rng):
    p = draw(st.sampled_from([0.0, 0.3, 0.7]))
    seed = draw(st.integers(0, 100))                 # one mask per call
    return (lambda x: T.dropout(x, p, np.random.default_rng(seed)),
            [rng.standard_normal(dims(draw, 2))])


def case_small_cnn(draw, rng):
    y = rng.integers(0, 3, size=2)
    return (lambda x, w, b, W2: T.cross_entropy(
        T.max_pool2d(T.conv2d(x, w, b, padding=1).relu(), 2)
        .reshape(2, -1) @ W2, y),
            [rng.standard_normal((2, 1, 4, 4)),
             0.5 * rng.standard_normal((2, 1, 3, 3)), rng.standard_normal(2),
             0.5 * rng.standard_normal((8, 3))])


#: cases with a float64 array constant: float32 results become float64
PROMOTES = {"numbers_and_arrays", "ndarray_matmul_tensor"}
CASES = {name[5:]: f for name, f in globals().items()
         if name.startswith("case_")}


@pytest.mark.parametrize("name", sorted(CASES))
@FAST
@given(data=st.data())
def test_gradients_match_central_differences(name, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    f, arrays = CASES[name](data.draw, rng)
    errors = gradcheck(f, arrays, rng)
    assert max(errors) < TOL, (name, errors)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=2, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_float32_stays_float32_and_agrees_with_float64(name, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    f, arrays = CASES[name](data.draw, rng)
    G = rng.standard_normal(f(*[Tensor(a) for a in arrays]).shape)
    y64, g64 = engine_grads(f, arrays, G)
    y32, g32 = engine_grads(f, [a.astype(np.float32) for a in arrays],
                            G.astype(np.float32))
    # a float64 array next to a float32 tensor promotes, as in NumPy
    assert y32.dtype == (np.float64 if name in PROMOTES else np.float32)
    assert all(g.dtype == np.float32 for g in g32)
    assert relative_error(y32.data, y64.data) < F32_TOL
    for a, b in zip(g32, g64):
        assert relative_error(a, b) < F32_TOL, name


# ------------------------------------------ a rule that is wrong is caught
def test_gradcheck_catches_a_matmul_rule_without_a_transpose(monkeypatch):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((3, 3)), rng.standard_normal((3, 3))]
    assert max(gradcheck(lambda a, b: a @ b, arrays, rng)) < TOL
    # dA = G B (not G B^T): the engine must be calling vjp.matmul_vjp
    monkeypatch.setattr(V, "matmul_vjp", lambda G, A, B: (G @ B, A.T @ G))
    assert max(gradcheck(lambda a, b: a @ b, arrays, rng)) > 1e-2


def test_gradcheck_catches_a_softmax_rule_without_its_second_term(
        monkeypatch):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((2, 3, 4)) for _ in range(3)]
    assert max(gradcheck(T.attention, arrays, rng)) < TOL
    monkeypatch.setattr(V, "softmax_vjp", lambda G, S, axis=-1: S * G)
    assert max(gradcheck(T.attention, arrays, rng)) > 1e-2


#: (rule of backprop.vjp, a case whose backward pass must call it)
USES = [("add_vjp", "add"), ("add_vjp", "sub"), ("mul_vjp", "mul"),
        ("mul_vjp", "div"), ("matmul_vjp", "matmul_batched"),
        ("sum_vjp", "sum"), ("mean_vjp", "mean"), ("max_vjp", "max"),
        ("reshape_vjp", "reshape_transpose"),
        ("transpose_vjp", "reshape_transpose"), ("getitem_vjp", "getitem"),
        ("exp_vjp", "exp"), ("log_vjp", "log"), ("tanh_vjp", "tanh"),
        ("sigmoid_vjp", "sigmoid"), ("relu_vjp", "relu"),
        ("softmax_vjp", "softmax"), ("logsumexp_vjp", "log_softmax"),
        ("logsumexp_vjp", "cross_entropy"), ("matmul_vjp", "conv2d"),
        ("mul_vjp", "batch_norm"), ("mul_vjp", "layer_norm"),
        ("getitem_vjp", "embedding"), ("softmax_vjp", "attention"),
        ("tanh_vjp", "rnn"), ("matmul_vjp", "rnn")]


@pytest.mark.parametrize("rule, name", USES)
@settings(max_examples=1, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_each_operation_calls_the_rule_of_backprop_vjp(rule, name, data):
    """Scale one rule's output by 1.5: the operation's gradient changes and
    the check fails, so its VJP goes through that rule (one
    implementation). Examples where the rule's share of the gradient is 0
    anyway (softmax over one entry) are skipped by ``assume``; if the
    operation never called the rule, every example would be skipped and
    hypothesis would fail the test as unsatisfiable."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    f, arrays = CASES[name](data.draw, rng)
    G = rng.standard_normal(f(*[Tensor(a) for a in arrays]).shape)
    right = engine_grads(f, arrays, G)[1]
    original = getattr(V, rule)

    def wrong(*args, **kwargs):
        out = original(*args, **kwargs)
        return (tuple(1.5 * g for g in out) if isinstance(out, tuple)
                else 1.5 * out)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(V, rule, wrong)
        changed = engine_grads(f, arrays, G)[1]
        assume(any(np.abs(a - b).max() > 1e-9 * (1 + np.abs(a).max())
                   for a, b in zip(right, changed)))
        assert max(gradcheck(f, arrays, rng)) > 1e-2


# ---------------------------------------- forward against plain NumPy
def test_conv2d_forward_is_a_cross_correlation():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    y = T.conv2d(x, w, b, stride=2, padding=1).data
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.empty((2, 4, 3, 3))
    for i in range(3):
        for j in range(3):
            patch = xp[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 2]
            ref[:, :, i, j] = np.einsum("ncab,fcab->nf", patch, w) + b
    np.testing.assert_allclose(y, ref, rtol=1e-12)


def test_max_pool2d_forward_and_ties_go_to_the_first_max():
    x = np.array([[[[1.0, 5.0, 2.0, 2.0],
                    [5.0, 0.0, 2.0, 2.0]]]])               # (1, 1, 2, 4)
    t = Tensor(x, requires_grad=True)
    y = T.max_pool2d(t, 2)
    np.testing.assert_array_equal(y.data, [[[[5.0, 2.0]]]])
    (y * np.array([[[[3.0, 7.0]]]])).sum().backward()
    np.testing.assert_array_equal(t.grad, [[[[0, 3, 7, 0], [0, 0, 0, 0]]]])


def test_norms_forward_standardize():
    rng = np.random.default_rng(4)
    x = 3 + 2 * rng.standard_normal((50, 3))
    y = T.batch_norm(x, np.ones(3), np.zeros(3), eps=1e-12).data
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1, rtol=1e-9)
    z = T.layer_norm(x, 2 * np.ones(3), np.ones(3)).data
    var = x.var(axis=1, keepdims=True)
    ref = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(z, 2 * ref + 1, rtol=1e-12)


def test_attention_forward_and_mask():
    rng = np.random.default_rng(5)
    q, k = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    v = rng.standard_normal((2, 5, 2))
    S = q @ k.transpose(0, 2, 1) / 2.0
    P = np.exp(S) / np.exp(S).sum(-1, keepdims=True)
    np.testing.assert_allclose(T.attention(q, k, v).data, P @ v,
                               rtol=1e-12)
    mask = np.tril(np.ones((3, 5), dtype=bool))            # causal
    y = T.attention(q, k, v, mask).data
    v2 = v.copy()
    v2[:, 3:] = 1e3                                        # masked keys
    np.testing.assert_array_equal(T.attention(q, k, v2, mask).data, y)
    Pm = np.where(mask, np.exp(S), 0)
    np.testing.assert_allclose(y, Pm / Pm.sum(-1, keepdims=True) @ v,
                               rtol=1e-12)


def test_rnn_forward_is_the_recurrence():
    rng = np.random.default_rng(6)
    x, h = rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 5))
    Wx, Wh = rng.standard_normal((3, 5)), rng.standard_normal((5, 5))
    b = rng.standard_normal(5)
    hs = T.rnn(x, h, Wx, Wh, b).data
    for t in range(4):
        h = np.tanh(x[t] @ Wx + h @ Wh + b)
        np.testing.assert_allclose(hs[t], h, rtol=1e-12)


def test_dropout_scales_kept_units_and_p0_is_identity():
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    assert T.dropout(x, 0.0, np.random.default_rng(0)) is x
    y = T.dropout(x, 0.25, np.random.default_rng(0)).data
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert abs((y > 0).mean() - 0.75) < 0.02
    again = T.dropout(x, 0.25, np.random.default_rng(0)).data
    np.testing.assert_array_equal(y, again)


def test_embedding_and_cross_entropy_values():
    W = np.arange(12.0).reshape(4, 3)
    idx = np.array([[3, 0], [0, 0]])
    np.testing.assert_array_equal(T.embedding(W, idx).data, W[idx])
    z = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]])
    y = np.array([1, 2])
    ref = np.mean(np.log(np.exp(z).sum(1)) - z[[0, 1], y])
    assert abs(T.cross_entropy(z, y).item() - ref) < 1e-14
    assert abs(T.mse(z, np.zeros_like(z)).item() - (z ** 2).sum() / 4) < 1e-14


# ------------------------------------------------------ the engine itself
def test_the_module_example_runs():
    import doctest
    assert doctest.testmod(T).failed == 0


def test_conv2d_on_constant_images_gives_the_same_filter_gradients():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 2, 5, 5))
    w = Tensor(rng.standard_normal((4, 2, 3, 3)), requires_grad=True)
    T.conv2d(x, w, stride=2, padding=1).tanh().sum().backward()
    dw_constant = w.grad
    w.zero_grad()
    xt = Tensor(x, requires_grad=True)
    T.conv2d(xt, w, stride=2, padding=1).tanh().sum().backward()
    np.testing.assert_allclose(w.grad, dw_constant, rtol=1e-14)
    assert xt.grad.shape == x.shape


def test_a_variable_used_twice_gets_both_gradients():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x + x).sum().backward()                          # d = 2x + 1
    np.testing.assert_array_equal(x.grad, [3.0, -3.0, 7.0])
    A = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (A @ A.T).sum().backward()                            # d = 2 * 1 1^T A
    np.testing.assert_allclose(A.grad, 2 * np.ones((2, 2)) @ A.data)


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    loss = (x ** 2).sum()
    loss.backward()
    loss.backward()                                       # the graph stays
    np.testing.assert_array_equal(x.grad, 2 * 2 * x.data)
    (3 * x).sum().backward()                              # a new graph
    np.testing.assert_array_equal(x.grad, 4 * x.data + 3)
    x.zero_grad()
    assert x.grad is None
    w = Tensor([2.0], requires_grad=True)
    (w * x).sum().backward()
    T.zero_grad([x, w])
    assert x.grad is None and w.grad is None


def test_interior_grads_and_constants():
    x = Tensor([0.5, -1.0], requires_grad=True)
    c = Tensor([2.0, 3.0])                                # a constant
    z = x * c
    (z.tanh()).sum().backward()
    np.testing.assert_allclose(z.grad, 1 - np.tanh(z.data) ** 2)
    np.testing.assert_allclose(x.grad, z.grad * c.data)
    assert c.grad is None
    k = c * 2 + 1
    assert not k.requires_grad and k.op == "add"
    with pytest.raises(RuntimeError, match="requires no grad"):
        k.sum().backward()


def test_a_chain_of_5000_operations_needs_no_recursion():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(3))
    assert len(y.topological_order()) == 5001


def test_ndarrays_and_numbers_on_either_side():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = Tensor(np.eye(2), requires_grad=True)
    for y in (a @ x, a + x, a - x, a * x, a / (x + 1), np.float64(2) * x,
              2 ** 0 * x):
        assert isinstance(y, Tensor)
    (a @ x).sum().backward()
    np.testing.assert_allclose(x.grad, a.T @ np.ones((2, 2)))
    with pytest.raises(TypeError):
        np.exp(x)


def test_dtypes():
    assert Tensor([1, 2]).dtype == np.float64             # ints -> float64
    x32 = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (x32 * 2 + 1) / 3 - np.arange(3) + x32 ** 2
    assert y.dtype == np.float32                          # numbers, ints
    (x32 * np.ones(3)).sum().backward()                   # float64 array
    assert x32.grad.dtype == np.float32


def test_stable_numerics():
    big = Tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    s = T.softmax(big)
    np.testing.assert_allclose(s.data, [[1.0, 0.0, 0.0]])
    ls = T.log_softmax(big)
    np.testing.assert_allclose(ls.data, [[0.0, -1e4, -2e4]])
    loss = T.cross_entropy(big, np.array([1]))
    assert loss.item() == 1e4
    loss.backward()
    np.testing.assert_allclose(big.grad, [[1.0, -1.0, 0.0]])
    x = Tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = x.sigmoid()
    np.testing.assert_array_equal(y.data, [0.0, 0.5, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.25, 0.0])


# -------------------------------------------- the MLP of Part I, rebuilt
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_the_mlp_rebuilt_on_the_engine_gives_the_same_gradients(hidden,
                                                                loss):
    rng = np.random.default_rng(7)
    output = "softmax" if loss == "cross_entropy" else "identity"
    net = MLP([4, 6, 5, 3], hidden=hidden, output=output, loss=loss,
              seed=8)
    X = rng.standard_normal((10, 4))
    Y = (rng.integers(0, 3, size=10) if loss == "cross_entropy"
         else rng.standard_normal((10, 3)))
    E_ref, grads_ref = net.loss_and_grads(X, Y)
    params = [Tensor(p, requires_grad=True)
              for layer in net.layers for p in (layer.W, layer.b)]
    A = Tensor(X)
    for i in range(0, len(params), 2):
        Z = A @ params[i] + params[i + 1]      # Z[l] = A[l-1] W[l] + b[l]
        last = i == len(params) - 2
        A = Z if last else getattr(Z, hidden)()
    E = T.cross_entropy(A, Y) if loss == "cross_entropy" else T.mse(A, Y)
    E.backward()
    assert abs(E.item() - E_ref) <= 1e-12 * abs(E_ref)
    for p, g in zip(params, grads_ref):
        assert relative_error(p.grad, g) < 1e-12


# ------------------------------------------------------------ bad input
def t(*shape):
    return Tensor(np.ones(shape), requires_grad=True)


BAD = [
    (lambda: Tensor([1.0, np.nan]), ValueError, "finite"),
    (lambda: Tensor(["a"]), TypeError, "real numbers"),
    (lambda: Tensor(None), TypeError, "real numbers"),
    (lambda: Tensor([1.0], requires_grad=1), TypeError, "True or False"),
    (lambda: Tensor(t(2)), TypeError, "detach"),
    (lambda: t(2, 3) @ t(4, 2), ValueError,
     r"k must agree; got \(2, 3\) @ \(4, 2\)"),
    (lambda: t(3) @ t(3, 2), ValueError, "at least 2 axes"),
    (lambda: t(2, 2, 3) @ t(3, 3, 1), ValueError, "batch axes"),
    (lambda: t(2, 3) + t(4), ValueError, r"broadcast; got \(2, 3\) and"),
    (lambda: t(2) * "a", TypeError, "real numbers"),
    (lambda: t(2) / Tensor([1.0, 0.0]), ValueError, "division by zero"),
    (lambda: t(2) ** t(2), TypeError, "Python number"),
    (lambda: 2 ** t(2), TypeError, "exponent"),
    (lambda: (-t(2)) ** 0.5, ValueError, "not real"),
    (lambda: Tensor([0.0]) ** -1, ValueError, "divides by zero"),
    (lambda: (t(2) - 1).log(), ValueError, "x > 0"),
    (lambda: (t(2) * 1000).exp(), ValueError, "overflowed float64"),
    (lambda: t(2, 3).backward(), RuntimeError, r"one-element.*\(2, 3\)"),
    (lambda: t(2, 3).sum(axis=2), ValueError, "out of range"),
    (lambda: t(2, 3).reshape(4, 2), ValueError, r"\(2, 3\).*\(4, 2\)"),
    (lambda: t(2, 3).transpose(0, 0), ValueError, "permutation"),
    (lambda: t(2, 3, 4).T, ValueError, "2-D"),
    (lambda: t(2, 3)[5], IndexError, r"shape \(2, 3\)"),
    (lambda: t(2, 3)[t(1)], TypeError, "not with a Tensor"),
    (lambda: T.softmax(t(2, 3), axis=2), ValueError, "out of range"),
    (lambda: T.cross_entropy(t(2, 3), np.array([0, 3])), ValueError,
     r"0\.\.2"),
    (lambda: T.cross_entropy(t(2, 3), np.array([0, -1])), ValueError,
     r"0\.\.2"),
    (lambda: T.cross_entropy(t(2, 3), np.array([0.0, 1.0])), TypeError,
     "integers"),
    (lambda: T.cross_entropy(t(2, 3), np.array([0, 1, 2])), ValueError,
     r"\(2,\)"),
    (lambda: T.cross_entropy(t(3), np.array([0])), ValueError, "2-D"),
    (lambda: T.mse(t(2, 3), np.ones(3)), ValueError, "shape of pred"),
    (lambda: T.conv2d(t(1, 2, 5, 5), t(4, 3, 3, 3)), ValueError,
     "C = 2 channels"),
    (lambda: T.conv2d(t(2, 5, 5), t(4, 2, 3, 3)), ValueError,
     r"4-D \(N, C, H, W\)"),
    (lambda: T.conv2d(t(1, 1, 2, 2), t(1, 1, 3, 3)), ValueError,
     "larger than"),
    (lambda: T.conv2d(t(1, 1, 4, 4), t(2, 1, 3, 3), t(3)), ValueError,
     r"b must have shape \(2,\)"),
    (lambda: T.conv2d(t(1, 1, 4, 4), t(1, 1, 3, 3), stride=0), ValueError,
     "stride must be at least 1"),
    (lambda: T.conv2d(t(1, 1, 4, 4), t(1, 1, 3, 3), padding=0.5),
     TypeError, "padding must be an int"),
    (lambda: T.max_pool2d(t(1, 1, 5, 4), 2), ValueError, "divisible"),
    (lambda: T.batch_norm(t(4, 3), t(2), t(3)), ValueError,
     r"gamma must have shape \(3,\)"),
    (lambda: T.batch_norm(t(1, 3), t(3), t(3)), ValueError, "N >= 2"),
    (lambda: T.batch_norm(t(4, 3), t(3), t(3), eps=0), ValueError, "eps"),
    (lambda: T.layer_norm(t(4, 3), t(4), t(4)), ValueError,
     r"gamma must have shape \(3,\)"),
    (lambda: T.embedding(t(5, 2), np.array([1, 5])), IndexError,
     r"0\.\.4"),
    (lambda: T.embedding(t(5, 2), np.array([-1])), IndexError, r"0\.\.4"),
    (lambda: T.embedding(t(5, 2), np.array([1.0])), TypeError, "integers"),
    (lambda: T.attention(t(2, 3, 4), t(2, 5, 3), t(2, 5, 1)), ValueError,
     r"k must have shape \(2, Tk, 4\)"),
    (lambda: T.attention(t(2, 3, 4), t(2, 5, 4), t(2, 4, 1)), ValueError,
     r"v must have shape \(2, 5, dv\)"),
    (lambda: T.attention(t(1, 2, 2), t(1, 2, 2), t(1, 2, 2),
                         np.array([[True, True], [False, False]])),
     ValueError, r"query \(n, i\) = \(0, 1\)"),
    (lambda: T.attention(t(1, 2, 2), t(1, 2, 2), t(1, 2, 2), np.ones(2)),
     TypeError, "bool"),
    (lambda: T.attention(t(1, 2, 2), t(1, 2, 2), t(1, 2, 2),
                         np.ones(3, dtype=bool)), ValueError, "broadcast"),
    (lambda: T.rnn(t(3, 2, 4), t(2, 5), t(4, 5), t(5, 4), t(5)),
     ValueError, r"Wh must have shape \(5, 5\)"),
    (lambda: T.rnn(t(3, 2, 4), t(3, 5), t(4, 5), t(5, 5), t(5)),
     ValueError, r"h0 must have shape \(2, H\)"),
    (lambda: T.dropout(t(3), 1.0, np.random.default_rng(0)), ValueError,
     r"\[0, 1\)"),
    (lambda: T.dropout(t(3), 0.5, 0), TypeError, "Generator"),
    (lambda: T.zero_grad([np.ones(2)]), TypeError, "Tensors"),
]


@pytest.mark.parametrize("call, error, message", BAD)
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_an_overflow_in_float32_raises_where_it_happens():
    x = Tensor(np.array([[30.0, 0.1]], dtype=np.float32), requires_grad=True)
    y = x ** 20                                   # 3e29: fits in float32
    with pytest.raises(ValueError, match="finite"):
        (y * y).sum()                             # 1e59 overflows
