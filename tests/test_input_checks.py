"""Input that NumPy would convert silently, and mismatched lengths: one clear error or the
conversion the data means (fastmlp.numeric, ClassifierMixin.score)."""

import numpy as np
import pytest

from fastmlp import cli, validation
from fastmlp.estimator import MLPClassifier

pytestmark = pytest.mark.usefixtures("quiet_convergence")

FAST = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)


def test_big_endian_float32_trains_the_float32_model_of_its_native_twin(blobs):
    X, y = blobs()
    native = X.astype(np.float32)
    swapped = native.astype(">f4")
    assert not swapped.dtype.isnative
    model = MLPClassifier(**FAST).fit(swapped, y)
    twin = MLPClassifier(**FAST).fit(native, y)
    assert model.coefs_[0].dtype == np.float32
    np.testing.assert_array_equal(model.coefs_[0], twin.coefs_[0])
    np.testing.assert_array_equal(model.predict_proba(swapped), twin.predict_proba(native))


def test_big_endian_float64_and_integers_train_as_their_native_twins(blobs):
    X, y = blobs()
    for native in (X, np.round(X).astype(np.int32)):
        swapped = native.astype(native.dtype.newbyteorder(">"))
        model = MLPClassifier(**FAST).fit(swapped, y)
        twin = MLPClassifier(**FAST).fit(native, y)
        assert model.coefs_[0].dtype == twin.coefs_[0].dtype == np.float64
        np.testing.assert_array_equal(model.coefs_[0], twin.coefs_[0])


def _not_numbers(X: np.ndarray) -> dict:
    records = np.zeros(len(X), dtype=[("a", "f8"), ("b", "f8")])
    records["a"], records["b"] = X[:, 0], X[:, 1]
    return {
        "dates": X.astype("datetime64[s]").astype("datetime64[D]"),
        "time spans": X.astype("timedelta64[s]"),
        "records": records.reshape(-1, 1),
        "strings": X.astype(str),
        "byte strings": X.astype("S32"),
        "strings in an object array": X.astype(str).astype(object),
    }


@pytest.mark.parametrize("kind", list(_not_numbers(np.ones((4, 2)))))
def test_fit_and_predict_refuse_input_that_is_not_numbers(blobs, kind):
    X, y = blobs()
    bad = _not_numbers(np.abs(X) * 1000)[kind]
    with pytest.raises(ValueError, match=r"^X has dtype .*, which holds .*not numbers.*"
                                         r"Convert X to numbers yourself"):
        MLPClassifier(**FAST).fit(bad, y)
    model = MLPClassifier(**FAST).fit(X[:, :bad.shape[1]], y)
    with pytest.raises(ValueError, match=r"not numbers"):
        model.predict(bad)


def test_object_arrays_of_numbers_still_train(blobs):
    X, y = blobs()
    model = MLPClassifier(**FAST).fit(X.astype(object), y)
    np.testing.assert_array_equal(model.coefs_[0], MLPClassifier(**FAST).fit(X, y).coefs_[0])


def test_score_names_a_length_mismatch(blobs):
    X, y = blobs(n=90)
    model = MLPClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"^score: y has shape \(5,\), but X has 90 samples; "
                                         r"pass one label per sample of X, shape \(90,\)"):
        model.score(X, y[:5])
    with pytest.raises(ValueError, match=r"y has shape \(90, 1\)"):
        model.score(X, y.reshape(-1, 1))  # would broadcast to a 90 x 90 comparison
    with pytest.raises(ValueError, match=r"^score: sample_weight has shape \(3,\)"):
        model.score(X, y, sample_weight=np.ones(3))
    assert model.score(X, y) == model.score(X, list(y), sample_weight=np.ones(90))


@pytest.mark.parametrize("dataset", [[], ["--dataset", "mnist"]])
def test_cli_evaluate_on_a_data_set_of_other_features_names_the_model_and_data(
    mirror_env, tmp_path, capsys, blobs, dataset
):
    X, y = blobs(n=60, n_features=20)
    path = tmp_path / "twenty.npz"
    MLPClassifier(**FAST).fit(X, y).save(path)
    assert cli.main(["evaluate", str(path), *dataset]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"fastmlp: error: {path} was trained on 20 features, but the mnist "
                          "test images have 784 features (pixels); pass --data FILE")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int64, np.int8])
def test_label_encoding_is_the_same_on_every_integer_path(dtype):
    rng = np.random.default_rng(0)
    y = rng.choice(np.array([3, 7, 8, 60], dtype=dtype), size=500)
    classes = validation.unique_labels(y)
    assert classes.tolist() == [3, 7, 8, 60] and classes.dtype == y.dtype
    index = validation.encode_labels(y, classes, "hint")
    assert index.dtype == np.int64
    assert np.array_equal(index, np.searchsorted(classes, y))
    with pytest.raises(ValueError, match=r"labels \[5\] that are not in the classes"):
        validation.encode_labels(np.append(y, dtype(5)), classes, "hint")
