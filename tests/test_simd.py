"""The explicit vector loops give exactly the scalar loops' numbers."""

import numpy as np
import pytest
from numba import njit

from fastmlp.engine import simd, sparse_first_layer


@njit
def _scalar_forward(W, n_out, index, value, n, a, j0):
    for k in range(n):
        for j in range(j0, j0 + simd.BLOCK):
            a[j] += value[k] * W[index[k] * n_out + j]


@njit
def _scalar_update(W, n_out, index, value, n, d, j0, lr):
    for k in range(n):
        step = lr * value[k]
        for j in range(j0, j0 + simd.BLOCK):
            W[index[k] * n_out + j] -= step * d[j]


@njit
def _vector_forward(W, n_out, index, value, n, a, j0):
    simd.sparse_forward_block(W, n_out, index, value, n, a, j0)


@njit
def _vector_update(W, n_out, index, value, n, d, j0, lr):
    simd.sparse_update_block(W, n_out, index, value, n, d, j0, lr)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("n_out", "j0"), [(16, 0), (20, 4), (35, 16)])
def test_vector_loops_equal_the_scalar_loops(dtype, n_out, j0):
    rng = np.random.default_rng(n_out)
    n_in = 50
    W = rng.normal(0, 1, n_in * n_out).astype(dtype)
    index = np.sort(rng.choice(n_in, 23, replace=False)).astype(np.int64)
    value = rng.random(23).astype(dtype)
    d = rng.normal(0, 1, n_out).astype(dtype)
    lr = dtype(0.03)
    a_scalar = rng.normal(0, 1, n_out).astype(dtype)
    a_vector = a_scalar.copy()
    _scalar_forward(W, n_out, index, value, 23, a_scalar, j0)
    _vector_forward(W, n_out, index, value, 23, a_vector, j0)
    np.testing.assert_array_equal(a_vector, a_scalar)
    outside = np.r_[0:j0, j0 + simd.BLOCK:n_out]
    W_scalar, W_vector = W.copy(), W.copy()
    _scalar_update(W_scalar, n_out, index, value, 23, d, j0, lr)
    _vector_update(W_vector, n_out, index, value, 23, d, j0, lr)
    np.testing.assert_array_equal(W_vector, W_scalar)
    # only the block's units of the listed rows moved
    moved = (W_vector != W).reshape(n_in, n_out)
    assert moved[index][:, j0:j0 + simd.BLOCK].all()
    assert not moved[:, outside].any() and not np.delete(moved, index, axis=0).any()
    assert a_vector[outside].tolist() == a_scalar[outside].tolist()


def test_an_empty_list_changes_nothing():
    W = np.ones(32, dtype=np.float64)
    a = np.zeros(16)
    _vector_forward(W, 16, np.zeros(0, np.int64), np.zeros(0), 0, a, 0)
    _vector_update(W, 16, np.zeros(0, np.int64), np.zeros(0), 0, a, 0, 0.1)
    assert not a.any() and (W == 1).all()


@pytest.mark.parametrize("x_dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [784, 21, 5])
def test_listed_non_zeros_are_numpys(x_dtype, dtype, d):
    """The per-sample path's listing (compress-store with AVX-512, else the
    table) gives the columns and scaled values of ``x != 0``, in order; NaN
    and infinity are listed, -0.0 is not."""

    rng = np.random.default_rng(d)
    x = (rng.integers(0, 256, d) * (rng.random(d) < 0.3)).astype(x_dtype)
    scale = dtype(1 / 255) if x_dtype == np.uint8 else dtype(1)
    if x_dtype != np.uint8:
        x = x / x_dtype(255)
        x[:3] = [np.nan, -0.0, np.inf][:min(3, d)]
    index = np.full(d, -1, dtype=np.int64)
    value = np.zeros(d, dtype=dtype)
    count = sparse_first_layer.list_nonzero(x, scale, index, value, False)
    columns = np.flatnonzero(x != 0)
    assert count == columns.size
    np.testing.assert_array_equal(index[:count], columns)
    expected = (x[columns] * scale).astype(dtype)
    np.testing.assert_array_equal(value[:count], expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("where", [0, 9, 19])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e300])
def test_listing_checks_float_rows(dtype, where, bad):
    """With ``check``, the listing reports a row holding NaN or infinity (or a
    float64 value beyond float32's range, for a float32 model) wherever it is:
    in a block of 8 or in the tail; finite rows are listed as without it."""

    x = np.linspace(0, 1, 21)
    index, value = np.zeros(21, np.int64), np.zeros(21, dtype)
    assert sparse_first_layer.list_nonzero(x, dtype(1), index, value, True) == 20
    x[where] = bad
    got = sparse_first_layer.list_nonzero(x, dtype(1), index, value, True)
    if bad == 1e300 and dtype == np.float64:
        assert got == 21 - (where != 0)
    else:
        assert got == -1
    assert sparse_first_layer.list_nonzero(x, dtype(1), index, value, False) == 21 - (where != 0)
