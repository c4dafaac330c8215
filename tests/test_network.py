"""MLP: backprop gradients against central differences for every valid combination,
property-based tests over random sizes, float32, extreme inputs and bad input."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop import MLP, check_gradients
from backprop.network import LOSS_NEEDS_OUTPUT

#: Relative error (eq-rel-error) below which backprop and float64 central differences
#: are taken to agree. The reference is the fourth-order central difference with
#: h = 1e-4 (truncation O(h^4) ~ 1e-16, round-off ~ eps |E| / h ~ 1e-12 |E|): in deep
#: sigmoid networks dE/dW1 is tiny next to E, and the second-order difference with
#: h = 1e-6 then carries round-off of relative size 1e-7 by itself.
TOL = 1e-7
FD = dict(h=1e-4, order=4)
HIDDEN = ["sigmoid", "tanh", "relu"]
OUTPUT_LOSS = [(o, l) for l, need in LOSS_NEEDS_OUTPUT.items()
               for o in ("identity", "sigmoid", "softmax") if need in (None, o)]


def make_targets(loss, rng, n, k, labels=False):
    if loss == "cross_entropy":
        y = rng.integers(0, k, size=n)
        return y if labels else np.eye(k)[y]
    if loss == "bce":
        return (rng.uniform(size=(n, k)) > 0.5).astype(float)
    return rng.normal(size=(n, k))


def away_from_kinks(net, X, h=2 * FD["h"]):
    """True if no ReLU pre-activation lies within 10 h of 0 (where f' jumps)."""
    net.forward(X)
    return all(np.min(np.abs(layer.Z)) > 10 * h
               for layer in net.layers[:-1] if layer.activation.name == "relu")


def test_output_loss_pairs_cover_the_spec():
    assert sorted(OUTPUT_LOSS) == sorted([("identity", "mse"), ("sigmoid", "mse"), ("softmax", "mse"),
                                          ("sigmoid", "bce"), ("softmax", "cross_entropy")])


@pytest.mark.parametrize("n_hidden", [1, 2, 3])
@pytest.mark.parametrize("output,loss", OUTPUT_LOSS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradients_match_central_differences(hidden, output, loss, n_hidden):
    rng = np.random.default_rng(100 * n_hidden + len(hidden))
    sizes = [3] + [5, 4, 3][:n_hidden] + [3]
    net = MLP(sizes, hidden=hidden, output=output, loss=loss, seed=n_hidden)
    # draw inputs until no ReLU pre-activation sits within 2h of its kink (a finite
    # difference straddling the kink measures the kink, not backprop)
    X = next(X for X in (rng.normal(size=(6, 3)) for _ in range(50)) if away_from_kinks(net, X))
    Y = make_targets(loss, rng, 6, 3, labels=(n_hidden == 2))
    report = check_gradients(net, X, Y, **FD)
    assert list(report) == net.param_names
    assert max(report.values()) < TOL, report


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
       n=st.integers(1, 6),
       hidden=st.sampled_from(HIDDEN),
       pair=st.sampled_from(OUTPUT_LOSS),
       seed=st.integers(0, 2**16))
def test_gradients_property(sizes, n, hidden, pair, seed):
    output, loss = pair
    if output == "softmax" and sizes[-1] == 1:
        sizes = sizes[:-1] + [2]
    rng = np.random.default_rng(seed)
    net = MLP(sizes, hidden=hidden, output=output, loss=loss, seed=seed)
    X = rng.normal(size=(n, sizes[0]))
    Y = make_targets(loss, rng, n, sizes[-1])
    if not away_from_kinks(net, X):
        return  # a finite difference straddling ReLU's kink is not a test of backprop
    loss_value, grads = net.loss_and_grads(X, Y)
    assert np.isfinite(loss_value)
    assert [g.shape for g in grads] == [p.shape for p in net.params]
    assert max(check_gradients(net, X, Y, **FD).values()) < TOL


def test_shapes_and_params_are_live():
    net = MLP([4, 3, 2], seed=0)
    assert [p.shape for p in net.params] == [(4, 3), (3,), (3, 2), (2,)]
    assert net.param_names == ["W1", "b1", "W2", "b2"]
    assert net.n_params == 4 * 3 + 3 + 3 * 2 + 2
    net.params[0][0, 0] = 42.0
    assert net.layers[0].W[0, 0] == 42.0
    assert net.forward(np.zeros((5, 4))).shape == (5, 2)


def test_deltas_are_dE_dZ():
    rng = np.random.default_rng(0)
    net = MLP([2, 3, 1], hidden="tanh", seed=0)
    X, Y = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    net.loss_and_grads(X, Y)
    delta1 = net.deltas[0].copy()
    # dE/dZ1 by central differences: perturb Z1 through a shifted bias, per sample
    numeric = np.zeros_like(delta1)
    h = 1e-6
    for i, j in itertools.product(range(4), range(3)):
        def loss_with(shift):
            Z1 = X @ net.layers[0].W + net.layers[0].b
            Z1[i, j] += shift
            A1 = np.tanh(Z1)
            out = A1 @ net.layers[1].W + net.layers[1].b
            return np.sum((out - Y) ** 2) / (2 * 4)
        numeric[i, j] = (loss_with(h) - loss_with(-h)) / (2 * h)
    np.testing.assert_allclose(delta1, numeric, rtol=1e-6, atol=1e-10)


def test_seed_makes_networks_reproducible():
    a, b, c = MLP([3, 4, 2], seed=7), MLP([3, 4, 2], seed=7), MLP([3, 4, 2], seed=8)
    assert all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
    assert not np.array_equal(a.params[0], c.params[0])


def test_float32_end_to_end():
    rng = np.random.default_rng(0)
    net = MLP([5, 8, 3], hidden="relu", output="softmax", loss="cross_entropy", dtype=np.float32)
    X = rng.normal(size=(10, 5))  # float64 input is cast to the network's dtype
    loss, grads = net.loss_and_grads(X, rng.integers(0, 3, 10))
    assert all(p.dtype == np.float32 for p in net.params)
    assert all(g.dtype == np.float32 for g in grads)
    assert net.forward(X).dtype == np.float32
    assert isinstance(loss, float)
    # float32 gradients agree with the float64 network's to float32 precision
    net64 = MLP([5, 8, 3], hidden="relu", output="softmax", loss="cross_entropy")
    for p32, p64 in zip(net.params, net64.params):
        p64[...] = p32
    _, grads64 = net64.loss_and_grads(X, rng.integers(0, 3, 10) * 0 + np.arange(10) % 3)
    _, grads32 = net.loss_and_grads(X, np.arange(10) % 3)
    for g32, g64 in zip(grads32, grads64):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output,loss", OUTPUT_LOSS)
def test_extreme_inputs_give_finite_values_without_warnings(hidden, output, loss):
    rng = np.random.default_rng(0)
    net = MLP([3, 4, 3], hidden=hidden, output=output, loss=loss, seed=0)
    X = np.array([[1e4, -1e4, 1e3], [-1e3, 1e4, -1e4]]) if hidden != "relu" else np.array([[1e3, -1e3, 1e2], [-1e2, 1e3, -1e3]])
    for layer in net.params[::2]:
        layer *= 50  # saturate every unit
    Y = make_targets(loss, rng, 2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = net.loss_and_grads(X, Y)
    assert np.isfinite(value)
    assert all(np.all(np.isfinite(g)) for g in grads)


# ---------------------------------------------------------------------------- bad input
def good_net():
    return MLP([3, 4, 2], hidden="relu", output="softmax", loss="cross_entropy", seed=0)


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(sizes=[3]), ValueError, "at least an input and an output"),
    (dict(sizes=[3, 0, 2]), ValueError, "at least 1"),
    (dict(sizes=[3, 2.5, 2]), TypeError, "integers"),
    (dict(sizes=5), TypeError, "list of layer widths"),
    (dict(hidden="gelu"), ValueError, "unknown hidden activation 'gelu'"),
    (dict(output="tanh"), ValueError, "unknown output activation"),
    (dict(loss="hinge"), ValueError, "unknown loss 'hinge'"),
    (dict(loss="bce", output="identity"), ValueError, 'loss="bce" needs output="sigmoid"'),
    (dict(loss="cross_entropy", output="sigmoid"), ValueError, 'needs output="softmax"'),
    (dict(dtype=np.int64), TypeError, "float32 or np.float64"),
    (dict(dtype=np.float16), TypeError, "float32 or np.float64"),
    (dict(seed=1.5), TypeError, "seed must be an integer"),
    (dict(init="glorot"), ValueError, "unknown init"),
])
def test_bad_construction(kwargs, exc, msg):
    args = dict(sizes=[3, 4, 2], hidden="sigmoid", output="identity", loss="mse")
    args.update(kwargs)
    with pytest.raises(exc, match=msg):
        MLP(**args)


@pytest.mark.parametrize("X,Y,exc,msg", [
    (np.zeros((5, 4)), np.zeros(5, dtype=int), ValueError, r"X must have shape \(N, 3\)"),
    (np.zeros(3), np.zeros(1, dtype=int), ValueError, "2-D"),
    (np.zeros((0, 3)), np.zeros(0, dtype=int), ValueError, "at least one sample"),
    (np.full((2, 3), np.nan), np.zeros(2, dtype=int), ValueError, "finite"),
    (np.full((2, 3), np.inf), np.zeros(2, dtype=int), ValueError, "finite"),
    (np.array([["a", "b", "c"]]), np.zeros(1, dtype=int), TypeError, "real numbers"),
    (np.zeros((2, 3)), np.zeros(3, dtype=int), ValueError, "X has 2 samples but Y has 3"),
    (np.zeros((2, 3)), np.array([0, 2]), ValueError, r"lie in 0..1"),
    (np.zeros((2, 3)), np.array([0, -1]), ValueError, r"lie in 0..1"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), TypeError, "integers"),
    (np.zeros((2, 3)), np.zeros((2, 3)), ValueError, r"Y must have shape \(2, 2\)"),
    (np.zeros((2, 3)), np.array([[0.5, 0.6], [1.0, 0.0]]), ValueError, "sum to 1"),
    (np.zeros((2, 3)), np.array([[np.nan, 1.0], [1.0, 0.0]]), ValueError, "finite"),
])
def test_bad_data_is_rejected_before_any_computation(X, Y, exc, msg):
    net = good_net()
    before = [p.copy() for p in net.params]
    with pytest.raises(exc, match=msg):
        net.loss_and_grads(X, Y)
    assert all(np.array_equal(p, q) for p, q in zip(net.params, before))
    assert all(layer.X is None for layer in net.layers)  # nothing ran


def test_bce_targets_outside_unit_interval():
    net = MLP([2, 2, 1], output="sigmoid", loss="bce")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        net.loss_and_grads(np.zeros((2, 2)), np.array([[2.0], [0.0]]))


def test_one_dimensional_targets_for_mse_get_a_hint():
    with pytest.raises(ValueError, match=r"Y must have shape \(3, 1\).*reshape\(-1, 1\)"):
        MLP([2, 2, 1]).loss_and_grads(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"Y must have shape \(3, 2\).*cross_entropy"):
        MLP([2, 2, 2]).loss_and_grads(np.zeros((3, 2)), np.zeros(3))


def test_predict():
    net = good_net()
    X = np.random.default_rng(0).normal(size=(7, 3))
    assert np.array_equal(net.predict(X), net.forward(X).argmax(axis=1))
    binary = MLP([3, 2, 1], output="sigmoid", loss="bce")
    assert binary.predict(X).shape == (7,)


# ------------------------------------------------------- NaN and overflow (issue 11)
# pyproject turns every RuntimeWarning into an error, so these tests also show that
# the clear ValueError comes before NumPy warns about anything.
def xor_data():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([[0.0], [1.0], [1.0], [0.0]])


def test_diverged_weights_are_reported_with_their_layer():
    from backprop.optim import SGD
    from backprop.training import accuracy, fit

    X, Y = xor_data()
    net = MLP([2, 4, 3, 1], hidden="tanh", output="sigmoid", loss="bce", seed=0)
    net.params[2][1, 0] = np.nan          # W2, in place: as a diverged update leaves it
    msg = r"output A\[3\] is not finite \(NaN or inf\): the parameters of layer 2 .*diverged"
    for call in (lambda: net.loss_and_grads(X, Y), lambda: net.loss(X, Y),
                 lambda: net.forward(X), lambda: net.predict(X),
                 lambda: accuracy(net, X, np.array([0, 1, 1, 0])),
                 lambda: fit(net, X, Y, SGD(net.params, 0.1), epochs=1)):
        with pytest.raises(ValueError, match=msg):
            call()
    net.params[0][0, 0] = np.inf
    with pytest.raises(ValueError, match="parameters of layers 1, 2 hold NaN or inf"):
        net.loss_and_grads(X, Y)


@pytest.mark.parametrize("dtype,scale", [(np.float64, 1e200), (np.float32, 1e20)])
def test_finite_inputs_whose_loss_overflows_raise_a_clear_error(dtype, scale):
    from backprop.optim import Adam
    from backprop.training import fit

    X, Y = xor_data()
    hidden = "identity" if dtype == np.float64 else "relu"
    net = MLP([2, 4, 1], hidden=hidden, output="identity", loss="mse", seed=0, dtype=dtype)
    before = [p.copy() for p in net.params]
    msg = (rf"the loss is not finite \(NaN or inf\): it overflowed \(in {np.dtype(dtype).name}"
           r".*output A\[2\] is finite")
    with pytest.raises(ValueError, match=msg):
        net.loss_and_grads(X * scale, Y)
    with pytest.raises(ValueError, match=msg):
        net.loss(X * scale, Y)
    with pytest.raises(ValueError, match=msg):
        fit(net, X * scale, Y, Adam(net.params), epochs=1)
    assert all(np.array_equal(p, q) for p, q in zip(net.params, before))   # no step taken
    assert np.all(np.isfinite(net.forward(X * scale)))   # the output itself is finite


def test_overflow_in_a_layer_names_the_layer():
    X, Y = xor_data()
    net = MLP([2, 3, 2], hidden="relu", output="softmax", loss="cross_entropy", seed=0)
    net.layers[1].W[...] = np.array([[1e300, -1e300]] * 3)   # Z[2] overflows
    X_big = X * 1e10
    for call in (lambda: net.forward(X_big), lambda: net.loss_and_grads(X_big, np.array([0, 1, 1, 0]))):
        with pytest.raises(ValueError, match=r"Z\[2\] = A\[1\] W\[2\] \+ b\[2\] is not finite.*layer 2 "
                                             r"overflowed"):
            call()
    assert np.all(np.isfinite(net.forward(X)))              # small inputs are fine


def test_fit_on_data_that_overflow_after_a_step_reports_it():
    from backprop.optim import SGD
    from backprop.training import fit

    X, Y = xor_data()
    net = MLP([2, 4, 1], hidden="relu", output="identity", loss="mse", seed=0)
    with pytest.raises(ValueError, match=r"not finite \(NaN or inf\)"):
        fit(net, X * 1e150, Y, SGD(net.params, lr=1.0), epochs=3)


# ------------------------------------------------------- parameters (issue 11)
def test_params_is_a_read_only_tuple_of_the_live_arrays():
    net = MLP([3, 4, 2], seed=0)
    assert isinstance(net.params, tuple)
    with pytest.raises(TypeError):
        net.params[0] = np.zeros((3, 4))     # used to be silently lost
    net.params[0][...] = 1.0                 # in place: the network changes
    assert np.all(net.layers[0].W == 1.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_assigning_parameters_checks_shape_dtype_and_values(dtype):
    net = MLP([3, 4, 2], hidden="tanh", seed=0, dtype=dtype)
    layer = net.layers[0]
    other = np.float64 if dtype == np.float32 else np.float32
    with pytest.raises(ValueError, match=r"W must keep this layer's shape \(3, 4\); got .* \(4, 3\)"):
        layer.W = np.zeros((4, 3), dtype=dtype)
    with pytest.raises(ValueError, match=r"b must keep this layer's shape \(4,\)"):
        layer.b = np.zeros((1, 4), dtype=dtype)
    with pytest.raises(TypeError, match=rf"W must keep this layer's dtype {np.dtype(dtype).name}"):
        layer.W = np.zeros((3, 4), dtype=other)
    with pytest.raises(TypeError, match="b must keep this layer's dtype"):
        layer.b = np.zeros(4, dtype=other)
    with pytest.raises(ValueError, match="W must be finite"):
        layer.W = np.full((3, 4), np.nan, dtype=dtype)
    assert layer.W.dtype == dtype                            # nothing was replaced
    new = np.full((3, 4), 0.5, dtype=dtype)
    layer.W = new                                            # a right array is taken as is
    assert layer.W is new and net.params[0] is new
    layer.b = [0.0, 1.0, 2.0, 3.0]                           # a list gets the layer's dtype
    assert layer.b.dtype == dtype
    rng = np.random.default_rng(0)
    _, grads = net.loss_and_grads(rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    assert all(g.dtype == dtype for g in grads)


def test_dense_construction_checks_its_arrays():
    from backprop import Dense

    layer = Dense(np.eye(2, dtype=int), [0, 0])              # integers become float64
    assert layer.W.dtype == layer.b.dtype == np.float64
    assert Dense(np.eye(2, dtype=np.float32), [0, 0]).b.dtype == np.float32
    with pytest.raises(TypeError, match=r"b must have the dtype of W \(float32\)"):
        Dense(np.eye(2, dtype=np.float32), np.zeros(2))
    with pytest.raises(TypeError, match="real numbers"):
        Dense(np.array([["a", "b"]]), np.zeros(2))
    with pytest.raises(ValueError, match=r"b must have shape \(2,\) to match W"):
        Dense(np.eye(2), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="W must be finite"):
        Dense(np.full((2, 2), np.inf), np.zeros(2))


@pytest.mark.parametrize("labels", [True, False])
@pytest.mark.parametrize("output,loss", OUTPUT_LOSS)
def test_output_loss_equals_the_public_loss_functions(output, loss, labels):
    """MLP._output_loss calls the losses' kernels on arrays it checked itself; the
    value and delta[L] must be exactly what the public, checked functions return."""
    from backprop.losses import bce_with_logits, mse, softmax_cross_entropy

    rng = np.random.default_rng(7)
    net = MLP([3, 4, 3], hidden="tanh", output=output, loss=loss, seed=3)
    X = rng.normal(size=(6, 3))
    Y = make_targets(loss, rng, 6, 3, labels=labels)
    value, _ = net.loss_and_grads(X, Y)
    last = net.layers[-1]
    if loss == "bce":
        ref_value, ref_delta = bce_with_logits(last.Z, Y)
    elif loss == "cross_entropy":
        ref_value, ref_delta = softmax_cross_entropy(last.Z, Y)
    else:
        ref_value, grad_A = mse(last.A, Y)
        ref_delta = last.activation.backward(last.Z, last.A, grad_A)
    assert value == ref_value and value == net.loss(X, Y)
    assert np.array_equal(net.deltas[-1], ref_delta)


def test_backward_delta_without_the_input_gradient():
    from backprop import Dense

    rng = np.random.default_rng(1)
    layer = Dense(rng.normal(size=(3, 2)), rng.normal(size=2), "tanh")
    X, delta = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(X)
    grad_X = layer.backward_delta(delta)
    dW, db = layer.dW, layer.db
    np.testing.assert_array_equal(grad_X, delta @ layer.W.T)
    assert layer.backward_delta(delta, grad_input=False) is None
    assert np.array_equal(layer.dW, dW) and np.array_equal(layer.db, db)
    np.testing.assert_array_equal(dW, X.T @ delta)
