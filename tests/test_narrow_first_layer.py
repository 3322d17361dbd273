"""The first layer by blocks of rows (fastmlp.engine.narrow_first_layer) equals the
products of a float64 reference within rounding, and mini-batch fits choose it
where it applies."""

import warnings

import numpy as np
import pytest

from fastmlp import MLPClassifier, MLPRegressor
from fastmlp.engine import first_layer, network, simd
from fastmlp.engine import narrow_first_layer as blocks
from fastmlp.engine.network import Network, Workspace

pytestmark = pytest.mark.skipif(
    not simd.COMPRESS_STORE, reason="the first layer runs by blocks of rows only with AVX-512")


def _batch(m, d, density, dtype, seed):
    """m rows of d inputs, about ``density`` non-zero; row 1 and column 2 empty."""
    rng = np.random.default_rng(seed)
    X = np.where(rng.random((m, d)) < density, rng.normal(size=(m, d)), 0.0).astype(dtype)
    if m > 1:
        X[1] = 0
    X[:, 2] = 0
    return X


def _products(X, W, D):
    """The forward product and W1's gradient by blocks, from NaN-filled outputs."""
    m, d = X.shape
    n_out = W.shape[1]
    listing = blocks.allocate(m, d, X.dtype)
    Z = np.full((m, n_out), np.nan, dtype=X.dtype)
    gW = np.full(d * n_out, np.nan, dtype=X.dtype)
    blocks.forward(X, listing, W.ravel(), Z)
    blocks.weight_gradient(X, listing, D, gW)
    return Z, gW.reshape(d, n_out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("density", [0.0, 0.01, 0.19, 0.5, 1.0])
@pytest.mark.parametrize("m", [1, 7, 8, 13, 64])
def test_every_width_in_registers_against_a_float64_reference(dtype, density, m):
    """Every width of whole registers up to 130 units (16 float32 or 8 float64 per
    register), blocks of 8 rows and shorter last blocks, a column count that is not
    a multiple of 8 (the last columns are listed whatever their values)."""
    d = 43
    X = _batch(m, d, density, dtype, seed=m)
    rng = np.random.default_rng(1)
    lanes = blocks.units_per_register(np.dtype(dtype).itemsize)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for n_out in range(lanes, 131, lanes):
        W = rng.normal(size=(d, n_out)).astype(dtype)
        D = rng.normal(size=(m, n_out)).astype(dtype)
        Z, gW = _products(X, W, D)
        exact_Z = X.astype(np.float64) @ W.astype(np.float64)
        exact_gW = X.T.astype(np.float64) @ D.astype(np.float64)
        scale_Z, scale_gW = max(1.0, np.abs(exact_Z).max()), max(1.0, np.abs(exact_gW).max())
        np.testing.assert_allclose(Z, exact_Z, rtol=tol, atol=tol * scale_Z, err_msg=n_out)
        np.testing.assert_allclose(gW, exact_gW, rtol=tol, atol=tol * scale_gW, err_msg=n_out)
        assert not gW[2].any()  # an empty column's gradient is 0, written
        if m > 1:
            assert not Z[1].any()


def test_listing_names_the_columns_where_any_row_of_a_block_is_non_zero():
    X = np.zeros((10, 21), dtype=np.float32)
    X[0, 3] = 1.0
    X[7, 9] = -2.0
    X[8, 4] = np.nan  # the second block: NaN counts as non-zero
    X[9, 0] = -0.0  # and -0.0 as zero
    listing = blocks.allocate(10, 21, np.float32)
    blocks.forward(X, listing, np.ones(21 * 16, np.float32), np.empty((10, 16), np.float32))
    first = listing.index[:listing.row_starts[0]]
    second = listing.index[21:21 + listing.row_starts[1]]
    # columns 16 to 20 are past the last whole 8 and always listed
    np.testing.assert_array_equal(first, [3, 9, 16, 17, 18, 19, 20])
    np.testing.assert_array_equal(second, [4, 16, 17, 18, 19, 20])


def test_dense_input_equals_blas_on_odd_row_counts():
    """Dense input: every column listed; row counts that leave 1 to 7 rows in the
    last block."""
    rng = np.random.default_rng(3)
    for m in range(1, 18):
        X = rng.normal(size=(m, 100))
        W = rng.normal(size=(100, 32))
        D = rng.normal(size=(m, 32))
        Z, gW = _products(X, W, D)
        np.testing.assert_allclose(Z, X @ W, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gW, X.T @ D, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_whole_register_widths_run_by_blocks_unless_listed_by_rows(dtype):
    """Dense input, or non-zeros clustered in a few columns as MNIST's are: every
    width of whole registers runs by blocks, no other width does. Non-zeros
    scattered at random: one register of units still runs by blocks; wider layers
    are listed by rows, which skips more of them."""
    itemsize = np.dtype(dtype).itemsize
    lanes = blocks.units_per_register(itemsize)
    rng = np.random.default_rng(8)
    dense = np.ones((400, 30), dtype=dtype)
    clustered = np.zeros((400, 30), dtype=dtype)
    clustered[:, :10] = rng.random((400, 10)) < 0.5  # 17 % non-zero, a third of the columns
    scattered = (rng.random((400, 30)) < 0.05).astype(dtype)
    for width in range(1, 131):
        net = Network((30, width, 3), "relu", "softmax", "log_loss", dtype)
        whole = width % lanes == 0
        for X in (dense, clustered):
            workspace = Workspace(net, 16, X)
            assert workspace.lists_by_blocks == whole, width
            assert not (workspace.lists_by_blocks and workspace.lists_nonzeros)
        by_rows = Workspace(net, 16, scattered)
        assert by_rows.lists_by_blocks == (width == lanes)
        assert by_rows.lists_nonzeros == (width >= 2 * lanes)
    wide = Network((30, lanes * (blocks.MOST_REGISTERS + 1), 3), "relu", "softmax",
                   "log_loss", dtype)
    assert not first_layer.lists_by_blocks(wide, dense)


def test_block_density_counts_the_columns_a_block_of_8_rows_lists():
    X = np.zeros((64, 10))
    X[::8, 0] = 1.0  # one row in every block
    X[3, 1] = 1.0  # one block only
    assert first_layer.block_density(X) == pytest.approx((8 + 1) / (8 * 10))
    assert first_layer.density(X) == pytest.approx(9 / 640)
    assert first_layer.block_density(np.ones((3, 4))) == 1.0  # under a block: the density


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("input_dtype", [np.float32, np.uint8])
def test_fit_by_blocks_equals_the_blas_fit(monkeypatch, estimator, input_dtype):
    """Whole fits of 16 float32 units (single, pipelined and split batches, shuffled
    and in place, float and uint8 input) agree with BLAS's within rounding."""
    rng = np.random.default_rng(5)
    X = np.where(rng.random((700, 60)) < 0.2, rng.random((700, 60)), 0.0).astype(np.float32)
    y = (X[:, :30].sum(axis=1) > X[:, 30:].sum(axis=1)).astype(int)
    if input_dtype == np.uint8:
        X = np.round(X * 255).astype(np.uint8)
    fits = []
    for by_blocks in (True, False):
        monkeypatch.setattr(first_layer, "lists_by_blocks", lambda net, data, b=by_blocks: b)
        for batch_size, shuffle in ((16, True), (16, False), (256, True)):
            model = estimator(hidden_layer_sizes=(16,), batch_size=batch_size, max_iter=2,
                              shuffle=shuffle, dtype="float32", random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fits.append(model.fit(X, y)._network.params.copy())
    for by_blocks, blas in zip(fits[:3], fits[3:], strict=True):
        np.testing.assert_allclose(by_blocks, blas, rtol=1e-4, atol=1e-5)
    assert not np.array_equal(fits[0], fits[2])  # the three settings differ


def test_nan_in_x_stops_a_fit_by_blocks_and_keeps_the_weights():
    rng = np.random.default_rng(6)
    X = rng.random((300, 40))
    y = rng.integers(0, 3, 300)
    model = MLPClassifier(hidden_layer_sizes=(16,), batch_size=32, max_iter=1, shuffle=False,
                          random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
        assert network.Workspace(model._network, 32, X).lists_by_blocks
        before = model._network.params.copy()
        X[250, 7] = np.nan
        model.set_params(warm_start=True)
        with pytest.raises(ValueError, match=r"NaN \(first at row 250, column 7\)"):
            model.fit(X, y)
    np.testing.assert_array_equal(model._network.params, before)
