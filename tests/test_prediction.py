"""Compiled prediction: the same answers as the network's dense pass, one compiled call per
chunk of rows, and the fast path's input checks."""

import warnings

import numpy as np
import pytest

from fastmlp import MLPClassifier
from fastmlp.engine import predict_kernels, prediction


def _fitted(X, y, hidden=(12,), activation="relu", output="softmax", dtype=None):
    model = MLPClassifier(hidden, activation, output_activation=output, max_iter=1,
                          batch_size=16, random_state=0, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def _reference(model, X):
    """predict_proba computed in float64 NumPy from the fitted weights."""
    A = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    if np.asarray(X).dtype == np.uint8:
        A = A * np.float64(np.float32(1 / 255))
    act = {"relu": lambda z: np.maximum(z, 0), "identity": lambda z: z,
           "logistic": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}[model.activation]
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        A = A @ W.astype(np.float64) + b
        if i < len(model.coefs_) - 1:
            A = act(A)
    if model.out_activation_ == "softmax":
        A = np.exp(A - A.max(axis=1, keepdims=True))
    else:
        A = 1 / (1 + np.exp(-A))
    return A / A.sum(axis=1, keepdims=True)


def _images(n, d=64, density=0.2, seed=0):
    """uint8 rows with about ``density`` non-zero pixels, and labels from them."""
    rng = np.random.default_rng(seed)
    X = ((rng.random((n, d)) < density) * rng.integers(1, 256, (n, d))).astype(np.uint8)
    return X, X[:, :4].argmax(axis=1)


@pytest.mark.parametrize("hidden", [(20,), (20, 16), (20, 16, 9), (20, 40)])
@pytest.mark.parametrize("output", ["softmax", "logistic"])
@pytest.mark.parametrize("density", [0.1, 0.9])
def test_sparse_and_dense_rows_give_the_dense_answer(hidden, output, density):
    X, y = _images(300, density=density)
    model = _fitted(X, y, hidden, "tanh", output)
    for data in (X, (X / np.float32(255)).astype(np.float32)):
        proba = model.predict_proba(data)
        assert proba.dtype == np.float32
        np.testing.assert_allclose(proba, _reference(model, X), rtol=0, atol=2e-6)
        np.testing.assert_array_equal(model.predict(data), model.classes_[proba.argmax(axis=1)])
        np.testing.assert_allclose(model.predict_proba(data[:1]), _reference(model, X[:1]),
                                   rtol=0, atol=2e-6)  # one row: the later layers in loops


def test_a_chunk_that_turns_dense_switches_to_blas_and_stays_right():
    sparse, y1 = _images(130, density=0.05, seed=1)
    dense, y2 = _images(200, density=0.95, seed=2)
    X = np.concatenate([sparse, dense, sparse])  # sparse blocks, then dense ones
    model = _fitted(X, np.concatenate([y1, y2, y1]), (17,))
    np.testing.assert_allclose(model.predict_proba(X), _reference(model, X), rtol=0, atol=2e-6)


def test_float64_model_matches_to_float64_rounding():
    X, y = _images(150, density=0.3)
    Xf = X / 255.0
    model = _fitted(Xf, y, (10, 7), "logistic", "logistic", dtype="float64")
    np.testing.assert_allclose(model.predict_proba(Xf), _reference(model, X / 255.0),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
def test_one_compiled_call_per_chunk(monkeypatch, threads):
    X, y = _images(250)
    model = _fitted(X, y)
    expected = model.predict_proba(X)
    calls = []
    kernel = predict_kernels.predict_rows

    def counting(X, *args):
        calls.append(X.shape[0])
        return kernel(X, *args)

    monkeypatch.setattr(predict_kernels, "predict_rows", counting)
    model.predict(X[:1])
    assert calls == [1]
    calls.clear()
    model.predict_proba(X)
    assert calls == [250]  # under SPLIT_MIN_ROWS: one call
    calls.clear()
    monkeypatch.setattr(prediction, "CHUNK_ROWS", 100)
    monkeypatch.setattr(prediction, "SPLIT_MIN_ROWS", 100)
    monkeypatch.setattr(prediction, "THREADS", threads)
    parts = [62, 62, 63, 63] if threads == 2 else [83, 83, 84]  # equal, a multiple of threads
    np.testing.assert_array_equal(model.predict_proba(X), expected)
    assert sorted(calls) == parts
    calls.clear()
    np.testing.assert_array_equal(model.predict(X), model.classes_[expected.argmax(axis=1)])
    assert sorted(calls) == parts
    calls.clear()
    monkeypatch.setattr(prediction, "CHUNK_ROWS", 4096)
    np.testing.assert_array_equal(model.predict_proba(X), expected)
    assert sorted(calls) == ([125, 125] if threads == 2 else [250])


def test_a_bad_row_in_a_later_part_is_named_by_its_row_in_X(monkeypatch):
    X, y = _images(300)
    model = _fitted(X, y)
    monkeypatch.setattr(prediction, "SPLIT_MIN_ROWS", 64)
    monkeypatch.setattr(prediction, "THREADS", 2)
    data = (X / np.float32(255)).astype(np.float32)
    data[170, 9] = np.nan
    with pytest.raises(ValueError, match=r"contains NaN \(first at row 170, column 9\)"):
        model.predict(data)


def test_the_common_input_skips_full_validation(monkeypatch):
    X, y = _images(40)
    model = _fitted(X, y)
    expected = model.predict_proba(X)
    Xf = np.ascontiguousarray(X, dtype=np.float32)
    expected_f = model.predict_proba(Xf)

    def refuse(*args, **kwargs):
        raise AssertionError("validate_data ran")

    monkeypatch.setattr(model, "_validate_X", refuse)
    np.testing.assert_array_equal(model.predict_proba(X), expected)  # uint8
    np.testing.assert_array_equal(model.predict_proba(Xf[3:4]), expected_f[3:4])  # one row
    with pytest.raises(AssertionError, match="validate_data ran"):
        model.predict_proba(X.tolist())  # anything else is validated


@pytest.mark.parametrize("layout", ["fortran", "strided", "list", "float64", "int"])
def test_other_inputs_give_the_same_answer(layout):
    X, y = _images(70)
    model = _fitted(X, y)
    Xf = (X / np.float32(255)).astype(np.float32)
    expected = model.predict_proba(Xf)
    other = {
        "fortran": np.asfortranarray(Xf),
        "strided": np.repeat(Xf, 2, axis=1)[:, ::2],
        "list": Xf.tolist(),
        "float64": Xf.astype(np.float64),
        "int": (Xf > 0.5).astype(np.int64),
    }[layout]
    want = model.predict_proba((Xf > 0.5).astype(np.float32)) if layout == "int" else expected
    np.testing.assert_allclose(model.predict_proba(other), want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("bad, what", [(np.nan, "NaN"), (np.inf, "infinity"),
                                       (-np.inf, "infinity")])
@pytest.mark.parametrize("density", [0.1, 0.9])
def test_non_finite_input_on_the_fast_path_gets_one_clear_error(bad, what, density):
    X, y = _images(200, density=density)
    model = _fitted(X, y)
    Xf = (X / np.float32(255)).astype(np.float32)
    for row, column in ((0, 0), (150, 63)):  # first block; a later (dense: unlisted) one
        data = Xf.copy()
        data[row, column] = bad
        for method in (model.predict, model.predict_proba):
            with pytest.raises(ValueError, match=rf"contains {what} \(first at row {row}, "
                                                 rf"column {column}\)"):
                method(data)


def test_float64_beyond_float32_range_gets_one_clear_error():
    X, y = _images(30)
    model = _fitted(X, y)
    data = (X / 255.0).astype(np.float64)
    data[4, 7] = 1e39
    with pytest.raises(ValueError, match="1e.39 at row 4, column 7, beyond the range of the "
                                         "model's float32"):
        model.predict_proba(data)


def test_wrong_feature_count_on_the_fast_path_gets_one_clear_error():
    X, y = _images(30)
    model = _fitted(X, y)
    with pytest.raises(ValueError, match="X has 63 features, but MLPClassifier is expecting 64"):
        model.predict_proba(np.ascontiguousarray(X[:, :63]))
    with pytest.raises(ValueError, match="0 sample"):
        model.predict(X[:0])


def test_a_forked_child_predicts_with_its_own_threads(monkeypatch):
    import multiprocessing

    X, y = _images(300)
    model = _fitted(X, y)
    monkeypatch.setattr(prediction, "SPLIT_MIN_ROWS", 64)
    monkeypatch.setattr(prediction, "THREADS", 2)
    expected = model.predict_proba(X)  # the parent's pool has started
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        got = pool.apply_async(model.predict_proba, (X,)).get(timeout=120)
    np.testing.assert_array_equal(got, expected)


def test_wide_inputs_are_listed_a_few_rows_at_a_time():
    d = 20_000  # BLOCK_INPUTS // d = 13 rows per block
    assert predict_kernels.BLOCK_INPUTS // d < predict_kernels.BLOCK_ROWS
    X, y = _images(40, d=d, density=0.01, seed=5)
    model = _fitted(X, y, (6,))
    np.testing.assert_allclose(model.predict_proba(X), _reference(model, X), rtol=0, atol=2e-6)


@pytest.mark.parametrize("n", [1024, 4097, 10_000, 100_003])
def test_a_large_prediction_is_cut_into_equal_parts_for_the_threads(monkeypatch, n):
    monkeypatch.setattr(prediction, "THREADS", 2)
    parts = prediction._parts(n)
    assert parts[0][0] == 0 and parts[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(parts[:-1], parts[1:], strict=True))
    sizes = [hi - lo for lo, hi in parts]
    assert len(parts) % 2 == 0 and max(sizes) <= prediction.CHUNK_ROWS
    assert max(sizes) - min(sizes) <= 1  # no thread is left alone with a short last part


def test_a_split_prediction_keeps_blas_on_one_thread_then_restores_it(monkeypatch):
    from fastmlp.engine import threads

    X, y = _images(2 * prediction.SPLIT_MIN_ROWS, density=0.9, seed=6)  # dense: BLAS runs
    model = _fitted(X, y, (40, 40))
    before = [pool.num_threads for pool in threads._blas_pools()]
    seen = []
    run_all = prediction._run_all

    def spy(calls):
        seen.append([pool.num_threads for pool in threads._blas_pools()])
        return run_all(calls)

    monkeypatch.setattr(prediction, "THREADS", 2)
    monkeypatch.setattr(prediction, "_run_all", spy)
    np.testing.assert_allclose(model.predict_proba(X), _reference(model, X), rtol=0, atol=2e-6)
    assert seen and all(n == 1 for n in seen[0]), seen
    assert [pool.num_threads for pool in threads._blas_pools()] == before
