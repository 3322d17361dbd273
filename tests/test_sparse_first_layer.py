"""The first layer of a mini-batch over its listed non-zero inputs
(fastmlp.engine.sparse_first_layer) equals the dense products within rounding, for every
width of vector blocks."""

import warnings

import numpy as np
import pytest

from fastmlp import MLPClassifier
from fastmlp.engine import first_layer, network, simd, sparse_first_layer


def _sparse_batch(m, d, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, d)).astype(dtype)
    X[rng.random((m, d)) < 0.8] = 0
    X[1] = 0  # a row with no non-zero input
    X[:, 3] = 0  # a column with none
    return X


def _listed(X, dtype, check=False):
    m, d = X.shape
    nonzeros = sparse_first_layer.allocate(m + 2, d, dtype)  # room for more rows than the batch
    rows = np.arange(m, dtype=np.int64)
    ok = sparse_first_layer.list_rows(X, rows, 0, m, np.dtype(dtype).type(1), nonzeros, check)
    return ok, nonzeros


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("blocks", [(0, 0, 5), (0, 1, 0), (1, 0, 0), (1, 1, 3), (2, 0, 1),
                                    (0, 7, 3), (0, 6, 0), (1, 7, 3)])
def test_listed_products_equal_dense_ones(dtype, blocks):
    """``blocks`` = (wide blocks, one-register blocks, leftover units) of the width."""
    wide, one, rest = blocks
    n_out = (wide * simd.wide_units(np.dtype(dtype).itemsize)
             + one * simd.wide_units(np.dtype(dtype).itemsize, 1) + rest)
    m, d = 37, 50
    X = _sparse_batch(m, d, dtype)
    rng = np.random.default_rng(1)
    W = rng.normal(size=(d, n_out)).astype(dtype)
    D = rng.normal(size=(m, n_out)).astype(dtype)
    ok, nonzeros = _listed(X, dtype)
    assert ok
    assert nonzeros.row_starts[m] == np.count_nonzero(X)
    Z = np.full((m, n_out), np.nan, dtype=dtype)
    sparse_first_layer.forward(nonzeros, m, W.ravel(), n_out, Z)
    gW = np.full(d * n_out, np.nan, dtype=dtype)
    sparse_first_layer.weight_gradient(nonzeros, m, D, gW)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    exact_Z = X.astype(np.float64) @ W.astype(np.float64)
    exact_gW = X.T.astype(np.float64) @ D.astype(np.float64)
    np.testing.assert_allclose(Z, exact_Z, rtol=tol, atol=tol * np.abs(exact_Z).max())
    np.testing.assert_allclose(gW.reshape(d, n_out), exact_gW, rtol=tol,
                               atol=tol * np.abs(exact_gW).max())
    assert not Z[1].any() and not gW.reshape(d, n_out)[3].any()
    if not wide:
        return  # narrow layers add the gradient by rows, with no by-column arrays
    # the by-column arrays list every non-zero once, in row order within a column
    starts = nonzeros.column_starts
    for c in (0, 3, d - 1):
        rows = nonzeros.column_rows[starts[c]:starts[c + 1]]
        np.testing.assert_array_equal(rows, np.flatnonzero(X[:, c]))
        np.testing.assert_array_equal(nonzeros.column_values[starts[c]:starts[c + 1]],
                                      X[rows, c])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_listing_a_batch_checks_it(bad):
    X = _sparse_batch(20, 30, np.float32)
    X[17, 29] = bad
    assert not _listed(X, np.float32, check=True)[0]
    assert _listed(X, np.float32, check=False)[0]


def test_mnist_like_input_lists_its_non_zeros_on_wide_first_layers():
    rng = np.random.default_rng(0)
    sparse = np.where(rng.random((500, 100)) < 0.2, rng.random((500, 100)), 0.0)
    dense = rng.random((500, 100))
    def net(width, dtype):
        return network.Network((100, width, 10), "relu", "softmax", "log_loss", dtype)

    # the vector loops hold 8 of AVX-512's 32 registers; elsewhere BLAS is kept
    assert first_layer.lists_nonzeros(net(128, np.float32), sparse) == simd.COMPRESS_STORE
    assert first_layer.lists_nonzeros(net(64, np.float64), sparse) == simd.COMPRESS_STORE
    assert not first_layer.lists_nonzeros(net(16, np.float32), sparse)
    assert not first_layer.lists_nonzeros(net(128, np.float32), dense)


@pytest.mark.parametrize("input_dtype", [np.float32, np.uint8])
@pytest.mark.parametrize("batch_size", [16, 128])
def test_listed_fit_equals_the_dense_fit_and_stops_at_nan(monkeypatch, batch_size, input_dtype):
    """A whole fit (unsplit and split batches, float and uint8 input) agrees with
    BLAS's within rounding, and NaN late in X raises and keeps the weights of before."""
    if not simd.COMPRESS_STORE:
        pytest.skip("mini-batches list their non-zeros only with AVX-512")
    rng = np.random.default_rng(2)
    X = np.where(rng.random((600, 60)) < 0.15, rng.random((600, 60)), 0.0).astype(np.float32)
    y = (X[:, :30].sum(axis=1) > X[:, 30:].sum(axis=1)).astype(int)
    if input_dtype == np.uint8:
        X = np.round(X * 255).astype(np.uint8)
    params = dict(hidden_layer_sizes=(128,), batch_size=batch_size, max_iter=2,
                  dtype="float32", random_state=0)

    def fit(data, **more):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return MLPClassifier(**params, **more).fit(data, y)

    decisions = []
    decide = first_layer.lists_nonzeros
    monkeypatch.setattr(first_layer, "lists_by_blocks", lambda net, data: False)
    monkeypatch.setattr(first_layer, "lists_nonzeros",
                        lambda net, data: decisions.append(decide(net, data)) or decisions[-1])
    listed = fit(X)
    monkeypatch.setattr(sparse_first_layer, "SPARSE_BATCH_DENSITY", 0.0)
    dense = fit(X)
    assert decisions == [True, False]
    np.testing.assert_allclose(listed._network.params, dense._network.params, rtol=1e-4,
                               atol=1e-5)
    if input_dtype == np.uint8:
        return  # uint8 cannot hold NaN
    monkeypatch.setattr(sparse_first_layer, "SPARSE_BATCH_DENSITY", 0.25)
    model = fit(X, warm_start=True, shuffle=False)
    before = model._network.params.copy()
    X[590, 7] = np.nan
    with pytest.raises(ValueError, match=r"NaN \(first at row 590, column 7\)"):
        model.fit(X, y)
    np.testing.assert_array_equal(model._network.params, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("density", [0.0, 0.01, 0.19, 0.5, 1.0])
def test_every_width_from_1_to_130_against_a_float64_reference(dtype, density):
    """Each width goes through its own mix of register blocks (8, 4, 2, 1 and the
    scalar rest, several sums in flight); rows 0 and 5 and column 2 are empty."""
    rng = np.random.default_rng(7)
    m, d = 13, 40
    X = np.where(rng.random((m, d)) < density, rng.random((m, d)) + 0.5, 0.0).astype(dtype)
    X[[0, 5]] = 0
    X[:, 2] = 0
    ok, nonzeros = _listed(X, dtype)
    assert ok
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for n_out in range(1, 131):
        W = rng.normal(size=(d, n_out)).astype(dtype)
        D = rng.normal(size=(m, n_out)).astype(dtype)
        Z = np.full((m, n_out), np.nan, dtype=dtype)
        gW = np.full(d * n_out, np.nan, dtype=dtype)
        sparse_first_layer.forward(nonzeros, m, W.ravel(), n_out, Z)
        sparse_first_layer.weight_gradient(nonzeros, m, D, gW)
        exact_Z = X.astype(np.float64) @ W.astype(np.float64)
        exact_gW = X.T.astype(np.float64) @ D.astype(np.float64)
        scale_Z, scale_gW = max(1.0, np.abs(exact_Z).max()), max(1.0, np.abs(exact_gW).max())
        np.testing.assert_allclose(Z, exact_Z, rtol=tol, atol=tol * scale_Z, err_msg=n_out)
        np.testing.assert_allclose(gW.reshape(d, n_out), exact_gW, rtol=tol,
                                   atol=tol * scale_gW, err_msg=n_out)
        assert not Z[[0, 5]].any() and not gW.reshape(d, n_out)[2].any()
