"""Data sets: shipped or generated, deterministic, standardized without leakage."""

import numpy as np
import pytest

from backprop.data import digits, one_hot, xor


def test_xor():
    X, Y = xor()
    assert X.shape == (4, 2) and Y.shape == (4, 1)
    assert np.array_equal(Y[:, 0], np.logical_xor(X[:, 0], X[:, 1]).astype(float))
    assert xor(np.float32)[0].dtype == np.float32


def test_digits_split_is_deterministic_stratified_and_standardized():
    a, b = digits(), digits()
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    assert a.X_train.shape[0] + a.X_test.shape[0] == 1797
    assert a.X_train.shape[1] == 64
    assert set(np.unique(a.y_train)) == set(range(10))
    # standardized with training statistics only
    varying = a.X_train.std(axis=0) > 0
    np.testing.assert_allclose(a.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(a.X_train.std(axis=0)[varying], 1, rtol=1e-12)
    assert not np.allclose(a.X_test.mean(axis=0), 0, atol=1e-3)
    assert digits(seed=1).y_train.tolist() != a.y_train.tolist()
    assert digits(dtype=np.float32).X_train.dtype == np.float32


def test_digits_bad_test_size():
    with pytest.raises(ValueError, match="test_size"):
        digits(test_size=1.5)


def test_one_hot():
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="lie in"):
        one_hot(np.array([3]), 3)
