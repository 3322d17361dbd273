"""SciPy sparse input: CSR trains and predicts as its dense twin does, over the
stored entries; other formats, odd structures and bad input."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import fastmlp
from fastmlp import MLPClassifier, MLPRegressor, sparse
from fastmlp.engine import csr, prediction, sparse_first_layer
from fastmlp.exceptions import DataConversionWarning


def _model(kind=MLPClassifier, **kw):
    options = dict(hidden_layer_sizes=(64,), max_iter=1, random_state=0, dtype="float64",
                   batch_size=32)
    return kind(**{**options, **kw})


def _fit(model, X, y, **kw):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Stochastic Optimizer")
        return model.fit(X, y, **kw)


def _max_diff(a, b):
    return max(float(np.abs(p - q).max()) for p, q in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def mnist_rows(mnist):
    """1,500 training and 500 test rows of real MNIST as float64 in [0, 1] (about 19 %
    non-zero), with their labels."""
    (x_train, y_train), (x_test, _) = mnist
    X = x_train[:1500].reshape(1500, -1) / 255.0
    return X, y_train[:1500], x_test[:500].reshape(500, -1) / 255.0


@pytest.mark.parametrize("hidden, batch_size", [((64,), 32), ((8,), 200), ((64,), 512)],
                         ids=["listed", "narrow", "sharded"])
def test_csr_fit_equals_dense_fit(mnist_rows, hidden, batch_size):
    # narrow: the dense fit runs its first layer in BLAS; sharded: batches cut in shards
    X, y, X_test = mnist_rows
    dense = _fit(_model(hidden_layer_sizes=hidden, batch_size=batch_size), X, y)
    model = _fit(_model(hidden_layer_sizes=hidden, batch_size=batch_size), sp.csr_matrix(X), y)
    scale = max(float(np.abs(w).max()) for w in dense.coefs_)
    assert _max_diff(model.coefs_, dense.coefs_) <= 1e-8 * scale
    assert _max_diff(model.intercepts_, dense.intercepts_) <= 1e-8 * scale
    assert model.loss_ == pytest.approx(dense.loss_, rel=1e-8)
    proba = model.predict_proba(sp.csr_matrix(X_test))
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, dense.predict_proba(X_test), rtol=0, atol=1e-8)
    # the CSR fit's model answers dense input as the dense model does
    np.testing.assert_allclose(model.predict_proba(X_test), proba, rtol=0, atol=1e-8)


def test_sparse_training_never_densifies_x(mnist_rows, monkeypatch):
    X, y, _ = mnist_rows

    def refused(*args, **kwargs):
        raise AssertionError("X was densified")

    matrix = sp.csr_matrix(X)
    monkeypatch.setattr(sp.csr_matrix, "toarray", refused)
    monkeypatch.setattr(sp.csr_matrix, "todense", refused)
    model = _fit(_model(), matrix, y)
    assert model.score(matrix, y) > 0.5


def _problem(n=300, d=120, density=0.05, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=lambda k: rng.random(k) + 0.1)
    X.data[X.indptr[5]:X.indptr[6]] = 0  # an empty row
    X.eliminate_zeros()
    weights = rng.standard_normal((d, 3))
    y = np.argmax(X @ weights + 0.01 * rng.standard_normal((n, 3)), axis=1)
    return X, y


@pytest.mark.parametrize("convert", [sp.csc_matrix, sp.csr_array, sp.csc_array],
                         ids=["csc_matrix", "csr_array", "csc_array"])
def test_csc_and_sparse_arrays_train_as_csr(convert):
    X, y = _problem()
    reference = _fit(_model(), X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataConversionWarning)  # CSC converts silently
        model = _fit(_model(), convert(X), y)
        proba = model.predict_proba(convert(X))
    assert _max_diff(model.coefs_, reference.coefs_) == 0.0
    np.testing.assert_array_equal(proba, reference.predict_proba(X))


@pytest.mark.parametrize("convert", [sp.coo_matrix, sp.lil_matrix, sp.dok_array],
                         ids=["coo", "lil", "dok"])
def test_other_formats_are_converted_with_a_warning(convert):
    X, y = _problem()
    reference = _fit(_model(), X, y)
    with pytest.warns(DataConversionWarning, match=r"converted\s+to CSR"):
        model = _fit(_model(), convert(X), y)
    assert _max_diff(model.coefs_, reference.coefs_) == 0.0
    with pytest.warns(DataConversionWarning, match="tocsr"):
        np.testing.assert_array_equal(model.predict(convert(X)), reference.predict(X))


def _messy(X, seed=0):
    """X's rows with every value split into two halves at the same column (duplicates),
    entries in random order within each row, and an explicit zero per row (column 0)."""
    rng = np.random.default_rng(seed)
    indptr, indices, data = [0], [], []
    for i in range(X.shape[0]):
        row = X.getrow(i)
        cols = np.concatenate([row.indices, row.indices, [0]])
        vals = np.concatenate([row.data / 2, row.data / 2, [0.0]])
        order = rng.permutation(cols.size)
        indices.extend(cols[order])
        data.extend(vals[order])
        indptr.append(len(indices))
    messy = sp.csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=X.shape)
    assert not messy.has_canonical_format
    return messy


def test_duplicates_unsorted_indices_explicit_zeros_and_empty_rows():
    X, y = _problem()
    messy = _messy(X)
    before = (messy.indices.copy(), messy.data.copy())
    reference = _fit(_model(), X, y)
    model = _fit(_model(), messy, y)
    assert _max_diff(model.coefs_, reference.coefs_) <= 1e-12
    np.testing.assert_allclose(model.predict_proba(messy), reference.predict_proba(X),
                               rtol=0, atol=1e-12)
    # the caller's matrix is read, never rewritten (no sum_duplicates in place)
    np.testing.assert_array_equal(messy.indices, before[0])
    np.testing.assert_array_equal(messy.data, before[1])


def test_float32_values_and_both_index_widths():
    X, y = _problem()
    X32 = X.astype(np.float32)
    wide = X32.copy()
    wide.indices, wide.indptr = X32.indices.astype(np.int64), X32.indptr.astype(np.int64)
    assert X32.indices.dtype == np.int32 and wide.indices.dtype == np.int64
    narrow_model = _fit(_model(dtype=None), X32, y)
    wide_model = _fit(_model(dtype=None), wide, y)
    assert narrow_model.coefs_[0].dtype == np.float32  # the dense rule: float32 in, float32 model
    assert _max_diff(narrow_model.coefs_, wide_model.coefs_) == 0.0
    dense = _fit(_model(dtype=None), X32.toarray(), y)
    assert _max_diff(narrow_model.coefs_, dense.coefs_) <= 1e-5
    # a float32 model reads float64 values, converting them entry by entry
    from64 = _fit(_model(dtype="float32"), X, y)
    assert _max_diff(from64.coefs_, narrow_model.coefs_) == 0.0


def test_uint8_values_are_scaled_like_dense_images(mnist):
    (x_train, y_train), _ = mnist
    X8 = np.ascontiguousarray(x_train[:400].reshape(400, -1))
    dense = _fit(_model(dtype=None), X8, y_train[:400])
    model = _fit(_model(dtype=None), sp.csr_matrix(X8), y_train[:400])
    assert model.coefs_[0].dtype == np.float32
    assert _max_diff(model.coefs_, dense.coefs_) <= 1e-5
    np.testing.assert_allclose(model.predict_proba(sp.csr_matrix(X8)),
                               dense.predict_proba(X8), atol=1e-5)


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.longdouble])
def test_other_value_dtypes_are_converted_with_a_warning(dtype):
    X, y = _problem()
    X = (X * 4).astype(dtype)
    with pytest.warns(DataConversionWarning, match=f"dtype {np.dtype(dtype)}.*converted"):
        model = _fit(_model(dtype=None), X, y)
    reference = _fit(_model(dtype=None), X.astype(model.coefs_[0].dtype), y)
    assert _max_diff(model.coefs_, reference.coefs_) == 0.0


@pytest.mark.parametrize("bad, what", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_nan_or_infinity_is_one_clear_error(bad, what):
    X, y = _problem()
    X = X.copy()
    X.data[7] = bad
    row = int(np.searchsorted(X.indptr, 7, side="right")) - 1
    message = f"contains {what} \\(first at row {row}, column {X.indices[7]}\\)"
    model = _model()
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")  # nothing half-fitted
    fitted = _fit(_model(), *_problem())
    with pytest.raises(ValueError, match=message):
        fitted.predict_proba(X)


def test_values_beyond_a_float32_model_are_refused():
    X, y = _problem()
    X = X.copy()
    X.data[0] = 1e300
    with pytest.raises(ValueError, match="beyond float32's range"):
        _model(dtype="float32").fit(X, y)


def test_wrong_column_count_at_predict():
    X, y = _problem()
    model = _fit(_model(), X, y)
    with pytest.raises(ValueError, match="X has 119 features, but MLPClassifier is expecting 120"):
        model.predict(X[:, :119])
    with pytest.raises(ValueError, match="expecting 120"):
        model.partial_fit(sp.hstack([X, X]).tocsr(), y)


def test_malformed_and_empty_matrices():
    X, y = _problem()
    broken = sp.csr_matrix(X.shape)
    broken.indptr, broken.indices, broken.data = X.indptr, X.indices.copy(), X.data
    broken.indices[3] = 500  # a column past the end
    with pytest.raises(ValueError, match="malformed sparse matrix"):
        _model().fit(broken, y)
    with pytest.raises(ValueError, match="0 feature"):
        _model().fit(sp.csr_matrix((3, 0)), [0, 1, 0])
    complex_x = X.astype(np.complex128)
    with pytest.raises(ValueError, match="Complex data"):
        _model().fit(complex_x, y)


def test_regressor_partial_fit_score_and_early_stopping():
    X, labels = _problem(n=400)
    y = np.asarray(X @ np.linspace(-1, 1, X.shape[1])).ravel()
    dense = _fit(_model(MLPRegressor), X.toarray(), y)
    model = _fit(_model(MLPRegressor), X, y)
    assert _max_diff(model.coefs_, dense.coefs_) <= 1e-10
    assert model.score(X, y) == pytest.approx(dense.score(X.toarray(), y), rel=1e-10)
    for kind, target in ((MLPRegressor, y), (MLPClassifier, labels)):
        stopping = dict(early_stopping=True, max_iter=3, n_iter_no_change=1)
        a = _fit(_model(kind, **stopping), X.toarray(), target)
        b = _fit(_model(kind, **stopping), X, target)
        assert b.validation_scores_ == pytest.approx(a.validation_scores_, rel=1e-10)
    model = _model()
    for start in range(0, 400, 100):
        model.partial_fit(X[start:start + 100], labels[start:start + 100], classes=[0, 1, 2])
    assert 0.0 <= model.score(X, labels) <= 1.0
    assert type(model.t_) is int and model.t_ == 400  # as a dense fit counts them


def test_saved_and_loaded_model_answers_sparse_input(tmp_path):
    X, y = _problem()
    model = _fit(_model(), X, y)
    model.save(tmp_path / "model.npz")
    restored = fastmlp.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_large_predictions_split_between_threads(monkeypatch):
    X, y = _problem(n=2100)
    model = _fit(_model(), X, y)
    monkeypatch.setattr(prediction, "CHUNK_ROWS", 300)  # several parts, over both threads
    split = model.predict_proba(X)
    np.testing.assert_allclose(split, model.predict_proba(X.toarray()), atol=1e-12)
    assert (model.predict(X) == model.classes_[np.argmax(split, axis=1)]).all()


def test_most_entries_and_take():
    X, _ = _problem(n=50)
    rows = sparse.validate(_model(), X, reset=True, dtype=None)
    lengths = np.diff(X.indptr)
    assert csr.most_entries(rows, 3) == np.sort(lengths)[-3:].sum()
    assert csr.most_entries(rows, 80) == X.nnz
    picked = np.array([4, 0, 5, 49])
    taken = csr.take(rows, picked)
    assert isinstance(taken, csr.Rows)
    rebuilt = sp.csr_matrix((taken.data, taken.indices, taken.indptr), shape=tuple(taken.shape))
    np.testing.assert_array_equal(rebuilt.toarray(), X[picked].toarray())


# One epoch on 200,000 x 100,000 CSR at 0.1 % density (80 GB dense in float32), in a
# fresh process that reports its own peak: VmHWM, the high-water mark of the program
# (ru_maxrss would also count pages the forked pytest process had before exec).
_LARGE = """
import json, resource, sys
import numpy as np, scipy.sparse as sp
from fastmlp import MLPClassifier
n, d, per_row = 200_000, 100_000, 100
rng = np.random.default_rng(0)
indices = rng.integers(0, d, n * per_row, dtype=np.int32)
data = rng.random(n * per_row, dtype=np.float32)
indptr = np.arange(0, n * per_row + 1, per_row, dtype=np.int32)
X = sp.csr_matrix((data, indices, indptr), shape=(n, d))
y = indices[::per_row] % 2
model = MLPClassifier((64,), max_iter=1, batch_size=200, random_state=0)
model.fit(X, y)
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) * 1024 for line in status
                    if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    scale = 1 if sys.platform == "darwin" else 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
print(json.dumps({"peak_bytes": peak, "loss": model.loss_, "nnz": int(X.nnz)}))
"""


@pytest.mark.slow
def test_large_sparse_matrix_trains_in_under_a_gigabyte():
    done = subprocess.run([sys.executable, "-c", _LARGE], capture_output=True, text=True,
                          timeout=1800, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["nnz"] == 20_000_000
    assert np.isfinite(result["loss"])
    assert result["peak_bytes"] < 1e9, f"peak RSS {result['peak_bytes'] / 1e6:.0f} MB"


def test_batch_size_one_trains_as_the_dense_per_sample_engine():
    # dense input at batch 1 with plain SGD runs the per-sample engine; CSR rows run
    # mini-batches of one row: the same steps, to rounding
    X, y = _problem(n=150)
    options = dict(solver="sgd", momentum=0.0, batch_size=1, learning_rate_init=0.05)
    dense = _fit(_model(**options), X.toarray(), y)
    model = _fit(_model(**options), X, y)
    assert _max_diff(model.coefs_, dense.coefs_) <= 1e-10


def test_sample_weights_and_deeper_networks():
    X, y = _problem()
    weights = np.random.default_rng(3).random(X.shape[0])
    options = dict(hidden_layer_sizes=(32, 16), activation="tanh", output_activation="logistic")
    dense = _fit(_model(**options), X.toarray(), y, sample_weight=weights)
    model = _fit(_model(**options), X, y, sample_weight=weights)
    assert _max_diff(model.coefs_, dense.coefs_) <= 1e-10
    np.testing.assert_allclose(model.predict_proba(X), dense.predict_proba(X.toarray()),
                               atol=1e-10)
    assert model.score(X, y, sample_weight=weights) == dense.score(X.toarray(), y,
                                                                   sample_weight=weights)


def test_csr_kernels_list_and_gather_rows_as_dense_rows():
    X = _messy(_problem(n=40)[0])  # duplicates, unsorted, explicit zeros
    rows = sparse.validate(_model(), X, reset=True, dtype=None)
    order = np.array([3, 0, 5, 17, 39], dtype=np.int64)
    dense = X.toarray()[order] * 0.5
    gathered = np.full((5, X.shape[1]), np.nan)
    assert csr.gather_csr_rows(rows, order, 0, 5, 0.5, gathered, True)
    np.testing.assert_allclose(gathered, dense, atol=1e-15)
    listed = sparse_first_layer.allocate(5, X.shape[1], np.dtype(np.float64))
    assert csr.list_csr_rows(rows, order, 0, 5, 0.5, listed, True)
    relisted = np.zeros_like(dense)
    for i in range(5):
        part = slice(listed.row_starts[i], listed.row_starts[i + 1])
        np.add.at(relisted[i], listed.index[part], listed.value[part])
    np.testing.assert_allclose(relisted, dense, atol=1e-15)
    bad = rows._replace(data=np.where(np.arange(rows.data.size) == rows.indptr[17], np.inf,
                                      rows.data))
    assert not csr.list_csr_rows(bad, order, 0, 5, 1.0, listed, True)
    assert not csr.gather_csr_rows(bad, order, 0, 5, 1.0, gathered, True)
    assert csr.list_csr_rows(bad, order, 0, 5, 1.0, listed, False)  # unchecked: listed
