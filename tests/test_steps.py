"""The compiled steps see the same numbers whatever the input's layout and path.

``tests/test_gradients.py`` checks the compiled epochs against written-out
reference steps for every activation, output, loss and solver; here the
input side: rows read in place or gathered, C, Fortran or strided input, a
short last batch, the chunked calls, and NaN or infinity met mid-epoch.
"""

import warnings

import numpy as np
import pytest

from fastmlp import MLPClassifier
from fastmlp.engine import predict_kernels, sample_steps, shard_steps, steps, threads


def _problem(n=300, d=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = (X[:, 0] + X[:, 1] > 1).astype(int) + 2 * (X[:, 2] > 0.5)
    return X, y


def _fit(X, y, **params):
    model = MLPClassifier(hidden_layer_sizes=(7,), max_iter=3, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 32, 64, 128])
def test_layouts_give_the_same_fit(monkeypatch, dtype, shuffle, batch_size):
    """batch_size=128 is cut into two shards here (and the last batch, of 44 rows,
    too), as larger networks' batches are."""
    monkeypatch.setattr(threads, "n_shards", lambda batch, n_params, itemsize=4, work_params=None:
                        2 if batch >= 128 else 1)
    X, y = _problem()
    X = X.astype(dtype)
    reference = _fit(X, y, dtype=dtype, shuffle=shuffle, batch_size=batch_size, solver="sgd")
    wide = np.zeros((X.shape[0], 2 * X.shape[1]), dtype=dtype)
    wide[:, ::2] = X
    variants = [np.asfortranarray(X), wide[:, ::2]]
    if dtype == "float32":
        # float64 input holding float32 values: converted batch by batch, never copied
        variants.append(X.astype(np.float64))
    for variant in variants:
        got = _fit(variant, y, dtype=dtype, shuffle=shuffle, batch_size=batch_size,
                   solver="sgd")
        for a, b in zip(got.coefs_ + got.intercepts_, reference.coefs_ + reference.intercepts_,
                        strict=True):
            np.testing.assert_array_equal(a, b)
        assert got.loss_curve_ == reference.loss_curve_


def test_in_place_rows_equal_gathered_rows():
    """shuffle=False reads the rows of float input in place; uint8 and another dtype
    are gathered. The two paths see the same values, so the fits agree."""
    X, y = _problem()
    X32 = (np.round(X * 255) / 255).astype(np.float32)
    in_place = _fit(X32, y, dtype="float32", shuffle=False, batch_size=50)
    from_uint8 = _fit(np.round(X * 255).astype(np.uint8), y, dtype="float32", shuffle=False,
                      batch_size=50)
    for a, b in zip(in_place.coefs_, from_uint8.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_chunked_calls_equal_one_call(monkeypatch):
    """An epoch cut into many compiled calls (for Ctrl-C) trains exactly as one call."""
    X, y = _problem(n=1000)
    whole = _fit(X, y, batch_size=30, solver="adam")
    monkeypatch.setattr(steps, "chunk_samples", lambda n_params, batch_size=1: 90)
    chunked = _fit(X, y, batch_size=30, solver="adam")
    np.testing.assert_array_equal(chunked._network.params, whole._network.params)
    assert chunked._optimizer.t == whole._optimizer.t == 3 * 34


@pytest.mark.parametrize("batch_size", [1, 16, 128])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_met_mid_epoch_leaves_no_trained_weights(batch_size, bad):
    """fit checks float X while it reads it: a bad value late in X raises ValueError
    naming its place, and a warm start keeps the weights it had."""
    X, y = _problem()
    model = _fit(X, y, batch_size=batch_size, warm_start=True, shuffle=False)
    before = model._network.params.copy()
    X_bad = X.copy()
    X_bad[250, 3] = bad
    with pytest.raises(ValueError, match=r"(NaN|infinity) \(first at row 250, column 3\)"):
        model.fit(X_bad, y)
    np.testing.assert_array_equal(model._network.params, before)


def _home(name):
    """The module of the compiled entry point ``name``."""
    return next(module for module in (steps, shard_steps, sample_steps) if hasattr(module, name))


def _count_calls(monkeypatch, name):
    """Calls of the compiled steps ``name``, counted in the returned list."""
    calls = []
    compiled = getattr(_home(name), name)
    monkeypatch.setattr(_home(name), name, lambda *args: calls.append(1) or compiled(*args))
    return calls


def _sparse_problem(n=300, d=40, seed=1):
    """Inputs that are 70 % zeros, so batch size 1 lists their non-zeros."""
    X, y = _problem(n, d, seed)
    X[X < 0.7] = 0.0
    return X, y


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("input_dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("alpha", [0.0, 1e-3])
def test_pipelined_listing_trains_as_the_serial_path(monkeypatch, dtype, input_dtype, alpha):
    """At batch size 1 a second thread lists the next block's non-zeros while the
    first trains: the same weights, bit for bit, as listing each row in turn, across
    blocks (of 7 rows here), a short last block, and chunked calls (of 45 rows)."""
    X, y = _sparse_problem()
    X = np.round(X * 255).astype(np.uint8) if input_dtype == np.uint8 else X.astype(input_dtype)
    params = dict(batch_size=1, solver="sgd", momentum=0.0, dtype=dtype, alpha=alpha)
    monkeypatch.setattr(sample_steps, "LISTING_BLOCK", 7)
    monkeypatch.setattr(steps, "chunk_samples", lambda n_params, batch_size=1: 45)
    calls = _count_calls(monkeypatch, "pipelined_per_sample_steps")
    if not threads.can_pipeline():
        pytest.skip("needs 2 Numba threads with the omp or tbb threading layer")
    pipelined = _fit(X, y, **params)
    assert len(calls) == 3 * 7  # 3 epochs of 7 chunks
    monkeypatch.setattr(threads, "can_pipeline", lambda: False)
    serial = _fit(X, y, **params)
    assert len(calls) == 21
    np.testing.assert_array_equal(pipelined._network.params, serial._network.params)
    assert pipelined.loss_curve_ == serial.loss_curve_


@pytest.mark.parametrize("input_dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("batch_size", [16, 30])
def test_pipelined_gather_trains_as_the_serial_path(monkeypatch, input_dtype, batch_size):
    """Batches too small to split: a second thread gathers the next block of rows
    while the first trains. The same fit bit for bit as gathering each batch in
    turn, across blocks (of 4 batches of 16 or 2 of 30 here), a short last block and
    batch, and chunked calls."""
    X, y = _problem(n=500)
    X = np.round(X * 255).astype(np.uint8) if input_dtype == np.uint8 else X.astype(input_dtype)
    params = dict(batch_size=batch_size, solver="adam", alpha=1e-3, dtype="float32")
    monkeypatch.setattr(steps, "GATHER_BLOCK", 64)
    chunk = 10 * batch_size  # two blocks at least, or the call gathers batch by batch
    monkeypatch.setattr(steps, "chunk_samples", lambda n_params, batch_size=1: chunk)
    calls = _count_calls(monkeypatch, "pipelined_minibatch_steps")
    if not threads.can_pipeline():
        pytest.skip("needs 2 Numba threads with the omp or tbb threading layer")
    pipelined = _fit(X, y, **params)
    assert len(calls) == 3 * -(-500 // chunk)
    monkeypatch.setattr(threads, "can_pipeline", lambda: False)
    serial = _fit(X, y, **params)
    assert len(calls) == 3 * -(-500 // chunk)
    np.testing.assert_array_equal(pipelined._network.params, serial._network.params)
    assert pipelined.loss_curve_ == serial.loss_curve_
    assert pipelined.t_ == serial.t_


@pytest.mark.parametrize("row", [5, 70, 499])
def test_pipelined_gather_stops_at_nan(monkeypatch, row):
    """NaN in the first block, a later one, or the last row: ValueError naming it,
    and the weights of before the fit."""
    if not threads.can_pipeline():
        pytest.skip("needs 2 Numba threads with the omp or tbb threading layer")
    monkeypatch.setattr(steps, "GATHER_BLOCK", 64)
    calls = _count_calls(monkeypatch, "pipelined_minibatch_steps")
    X, y = _problem(n=500)  # float64 rows for a float32 model: gathered, in file order
    model = _fit(X, y, batch_size=16, dtype="float32", warm_start=True, shuffle=False)
    assert calls
    before = model._network.params.copy()
    X[row, 5] = np.nan
    with pytest.raises(ValueError, match=rf"NaN \(first at row {row}, column 5\)"):
        model.fit(X, y)
    np.testing.assert_array_equal(model._network.params, before)


@pytest.mark.parametrize("row", [3, 10, 299])
def test_pipelined_listing_stops_at_nan(monkeypatch, row):
    """NaN in the first block, a later one, or the last row (in file order): ValueError
    naming it, and the weights of before the fit."""
    if not threads.can_pipeline():
        pytest.skip("needs 2 Numba threads with the omp or tbb threading layer")
    monkeypatch.setattr(sample_steps, "LISTING_BLOCK", 7)
    calls = _count_calls(monkeypatch, "pipelined_per_sample_steps")
    X, y = _sparse_problem()
    model = _fit(X, y, batch_size=1, solver="sgd", momentum=0.0, warm_start=True,
                 shuffle=False)
    assert calls
    before = model._network.params.copy()
    X[row, 5] = np.nan
    with pytest.raises(ValueError, match=rf"NaN \(first at row {row}, column 5\)"):
        model.fit(X, y)
    np.testing.assert_array_equal(model._network.params, before)


def test_batch_one_lists_in_turn_on_one_thread():
    """The listing needs a second thread: with one, rows are listed in turn."""
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert not threads.can_pipeline()
    finally:
        numba.set_num_threads(previous)
    assert threads.can_pipeline() == (previous >= 2 and threads.can_split())


@pytest.mark.parametrize(("batch_size", "chunk", "name"), [
    (1, 90, "per_sample_steps"), (30, 90, "minibatch_steps"),
    (30, 480, "pipelined_minibatch_steps"), (128, 256, "sharded_minibatch_steps"),
])
def test_ctrl_c_mid_epoch_keeps_weights_and_counters_together(
    monkeypatch, batch_size, chunk, name,
):
    """Ctrl-C is answered between compiled chunks; the interrupted epoch is undone, so
    the weights, n_iter_, t_ and the optimizer's step count still belong together."""
    monkeypatch.setattr(threads, "n_shards", lambda batch, n_params, itemsize=4, work_params=None:
                        2 if batch >= 128 else 1)
    if name == "sharded_minibatch_steps" and threads.engine_threads(2) < 2:
        name = "serial_sharded_minibatch_steps"
    X, y = _problem(n=1000)
    model = _fit(X, y, batch_size=batch_size, solver="adam" if batch_size > 1 else "sgd",
                 momentum=0.0, warm_start=True)
    before = model._network.params.copy()
    n_iter, t, steps_taken = model.n_iter_, model.t_, getattr(model._optimizer, "t", None)
    if name.startswith("pipelined") and not threads.can_pipeline():
        pytest.skip("needs 2 Numba threads with the omp or tbb threading layer")
    # a whole number of batches; 480 rows hold two blocks, so the gather is pipelined
    monkeypatch.setattr(steps, "chunk_samples", lambda n_params, batch_size=1: chunk)
    compiled, calls = getattr(_home(name), name), []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return compiled(*args)

    monkeypatch.setattr(_home(name), name, interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X, y)  # keeps the optimizer, so its step count is checked too
    assert len(calls) == 3  # the epoch was cut short, not run to its end
    np.testing.assert_array_equal(model._network.params, before)
    # n_iter_ counts the epochs this call completed (none); t_ the samples of all calls
    assert (n_iter, model.n_iter_, model.t_) == (3, 0, t)
    assert steps_taken is None or steps_taken == 3 * -(-1000 // batch_size)
    assert getattr(model._optimizer, "t", None) == steps_taken


def test_chunks_shrink_with_the_network():
    """A chunk is about the same work whatever the size: 784-512-10, whose batch-1
    epoch took 3.7 s in one call, is cut into calls of a few hundred samples."""
    small = steps.chunk_samples(784 * 16 + 16 * 10 + 26)
    wide = steps.chunk_samples(784 * 512 + 512 * 10 + 522)
    assert small > 5000 and 100 < wide < 1000
    assert steps.chunk_samples(10**9) == 1
    assert steps.chunk_samples(101_770, 128) % 128 == 0


@pytest.mark.parametrize("batch_size", [1, 16])
def test_a_failed_refit_keeps_the_fitted_model(batch_size):
    """NaN found mid-epoch of a fresh fit leaves the estimator as it was: the old
    model still predicts the same, and a never-fitted one stays unfitted."""
    from fastmlp.exceptions import NotFittedError

    X, y = _problem()
    X_bad = X.copy()
    X_bad[-1, 0] = np.nan
    fresh = MLPClassifier(hidden_layer_sizes=(5,), batch_size=batch_size, max_iter=1)
    with pytest.raises(ValueError, match="NaN"):
        fresh.fit(X_bad, y)
    with pytest.raises(NotFittedError):
        fresh.predict(X)
    model = _fit(X, y, batch_size=batch_size)
    before = model.predict_proba(X)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X_bad, y)
    np.testing.assert_array_equal(model.predict_proba(X), before)


def test_a_blow_up_at_batch_one_is_divergence_not_bad_input():
    """An infinite loss from the weights, met while the first epoch checks X, is
    reported as divergence, and float64 values beyond float32 are named as such."""
    from fastmlp.exceptions import DivergenceError

    X, y = _problem()
    with pytest.raises(DivergenceError):
        _fit(X * 1e30, y, batch_size=1, solver="sgd", momentum=0.0, learning_rate_init=1e3,
             output_activation="logistic")
    huge = X.copy()
    huge[3, 2] = 1e39
    with pytest.raises(ValueError, match="float32's range"):
        _fit(huge, y, dtype="float32", batch_size=16)


def _sparse_fit(seed, batch_size):
    X, y = _sparse_problem(n=600)
    model = MLPClassifier(hidden_layer_sizes=(7,), max_iter=2, random_state=seed,
                          batch_size=batch_size, solver="sgd", momentum=0.0, dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)  # float64 rows for a float32 model: gathered or listed
    return model._network.params.copy()


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")  # see the test above
@pytest.mark.parametrize("batch_size", [1, 32])
def test_fits_in_two_python_threads_at_once_give_their_own_weights(batch_size):
    """The compiled steps release the GIL, so two fits in two threads run at once;
    each still gives the weights it gives alone (batch 1 lists, batch 32 gathers,
    each on a second Numba thread)."""
    from concurrent.futures import ThreadPoolExecutor

    entry_points = [steps.minibatch_steps, shard_steps.sharded_minibatch_steps,
                    steps.pipelined_minibatch_steps, sample_steps.per_sample_steps,
                    sample_steps.pipelined_per_sample_steps, predict_kernels.forward_rows]
    assert all(function.targetoptions.get("nogil") for function in entry_points)
    alone = [_sparse_fit(seed, batch_size) for seed in (0, 1)]
    with ThreadPoolExecutor(2) as executor:
        together = list(executor.map(_sparse_fit, (0, 1), (batch_size, batch_size)))
    for weights, expected in zip(together, alone, strict=True):
        np.testing.assert_array_equal(weights, expected)
