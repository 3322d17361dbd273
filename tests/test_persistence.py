"""model.save(path) / fastmlp.load(path): round trip, atomic writes, damaged files."""

import decimal
import os
import zipfile

import numpy as np
import pytest

import fastmlp
from fastmlp import estimator, persistence
from fastmlp.base import NotFittedError
from fastmlp.exceptions import ModelFileError

pytestmark = pytest.mark.usefixtures("quiet_convergence")


def _fit(X, y, **params):
    params = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0, **params}
    return fastmlp.MLPClassifier(**params).fit(X, y)


@pytest.fixture
def data(linear_classes):
    """The problem every test here fits: 150 samples, 6 features, 3 classes."""
    return lambda n=150: linear_classes(n, n_features=6)


@pytest.fixture
def model(data, quiet_convergence):
    return _fit(*data())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "labels",
    [np.array([3, 5, 9]), np.array(["cat", "dog", "emu"]), np.array([1.0, 2.0, 4.0]),
     np.array(["cat", "dog", "emu"], dtype=object), np.array([10, 20, 30], dtype=object)],
    ids=["int", "str", "float", "object-str", "object-int"],
)
def test_round_trip(tmp_path, dtype, labels, data):
    X, index = data()
    y = labels[index]
    original = _fit(X, y, dtype=dtype, solver="sgd", hidden_layer_sizes=(8, 4))
    path = tmp_path / "model.npz"
    original.save(path)
    loaded = fastmlp.load(path)
    assert type(loaded) is fastmlp.MLPClassifier
    assert loaded.get_params() == original.get_params()
    assert loaded.classes_.dtype == original.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, original.classes_)
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))
    assert loaded.predict_proba(X).dtype == np.dtype(dtype)
    for name in ("n_iter_", "t_", "n_features_in_", "loss_", "loss_curve_", "best_loss_",
                 "validation_scores_", "best_validation_score_", "n_layers_", "n_outputs_"):
        assert getattr(loaded, name) == getattr(original, name), name
    for layer in loaded.coefs_ + loaded.intercepts_:
        assert np.shares_memory(layer, loaded._network.params)


def test_training_continues_exactly_after_loading(tmp_path, model, data):
    X, y = data()
    model.save(tmp_path / "m.npz")
    loaded = fastmlp.load(tmp_path / "m.npz")
    model.partial_fit(X, y)  # optimizer state (Adam moments) is restored too
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(loaded._network.params, model._network.params)
    for m in (model, loaded):
        m.set_params(warm_start=True, max_iter=2)
        m.fit(X, y)
    np.testing.assert_array_equal(loaded._network.params, model._network.params)
    assert loaded.loss_curve_ == model.loss_curve_ and len(loaded.loss_curve_) == 8


def test_early_stopping_attributes_survive(tmp_path, data):
    X, y = data(300)
    original = _fit(X, y, early_stopping=True, max_iter=4)
    original.save(tmp_path / "m.npz")
    loaded = fastmlp.load(tmp_path / "m.npz")
    assert loaded.validation_scores_ == original.validation_scores_
    assert loaded.best_validation_score_ == original.best_validation_score_
    assert loaded.best_loss_ is None


def test_callbacks_and_random_state_objects_are_not_stored(tmp_path, data):
    X, y = data()
    original = _fit(X, y, callbacks=[lambda m, info: None],
                    random_state=np.random.RandomState(0))
    original.save(tmp_path / "m.npz", metadata={"dataset": "synthetic"})
    loaded, metadata = fastmlp.load_with_metadata(tmp_path / "m.npz")
    assert loaded.callbacks is None and loaded.random_state is None
    assert metadata == {"dataset": "synthetic"}


def test_feature_names_are_stored(tmp_path, model):
    model.feature_names_in_ = np.array(list("abcdef"), dtype=object)
    model.save(tmp_path / "m.npz")
    names = fastmlp.load(tmp_path / "m.npz").feature_names_in_
    assert names.dtype == object and names.tolist() == list("abcdef")


def test_file_is_read_without_pickle(tmp_path, model, monkeypatch):
    calls = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: calls.append(k) or real_load(*a, **k))
    model.save(tmp_path / "m.npz")
    fastmlp.load(tmp_path / "m.npz")
    assert calls and all(call.get("allow_pickle") is False for call in calls)


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(NotFittedError):
        fastmlp.MLPClassifier().save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_labels_that_cannot_be_stored_are_refused(tmp_path, data):
    X, index = data()
    labels = np.array([decimal.Decimal(1), decimal.Decimal(2), decimal.Decimal(3)], dtype=object)
    model = _fit(X, labels[index])
    with pytest.raises(ValueError, match="Cannot save class labels of types \\['Decimal'\\]"):
        model.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


# -- atomic save ---------------------------------------------------------------------------


def test_failed_write_keeps_the_previous_file(tmp_path, model, monkeypatch):
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left


def test_failed_rename_keeps_the_previous_file(tmp_path, model, monkeypatch):
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(PermissionError):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_save_is_flushed_to_disk(tmp_path, model, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    model.save(tmp_path / "m.npz")
    assert synced  # the file (and, on POSIX, its directory)


def test_save_into_missing_directory_fails_cleanly(tmp_path, model):
    with pytest.raises(FileNotFoundError):
        model.save(tmp_path / "nowhere" / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_saved_file_gets_normal_permissions(tmp_path, model):
    model.save(tmp_path / "m.npz")
    mode = (tmp_path / "m.npz").stat().st_mode & 0o777
    assert mode & 0o644 == 0o644 or os.name != "posix"


# -- damaged and foreign files ---------------------------------------------------------------


def _rewrite(path, **changes):
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays.update(changes)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    with open(path, "wb") as file:
        np.savez(file, **arrays)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: p.write_bytes(b"this is no model"), "not an .npz archive"),
        (lambda p: p.write_bytes(b""), "the file is empty"),
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "truncated"),
        (lambda p: _rewrite(p, format_version=np.array(99)), "newer fastmlp"),
        (lambda p: _rewrite(p, format=np.array("something-else")), "not a fastmlp model"),
        (lambda p: _rewrite(p, params=np.zeros(3)), "do not fit layers"),
        (lambda p: _rewrite(p, hyperparams=np.array("{not json")), "not valid JSON"),
        (lambda p: _rewrite(p, hyperparams=np.array('{"colour": 1}')), "unknown hyper-param"),
        (lambda p: _rewrite(p, state=None), "missing \\['state'\\]"),
        (lambda p: _rewrite(p, classes=np.array([{}, {}], dtype=object)), "truncated or corrupt"),
        (lambda p: np.save(open(p, "wb"), np.arange(3)), "not an .npz archive"),
    ],
    ids=["garbage", "empty", "truncated", "version", "foreign", "params", "json",
         "unknown-param", "missing", "pickled-object", "npy"],
)
def test_damaged_file_gives_a_clear_error_naming_it(tmp_path, model, damage, message):
    path = tmp_path / "m.npz"
    model.save(path)
    damage(path)
    with pytest.raises(ModelFileError, match=message) as error:
        fastmlp.load(path)
    assert str(path) in str(error.value)
    assert isinstance(error.value, ValueError)


def test_flipped_bytes_are_detected(tmp_path, model):
    path = tmp_path / "m.npz"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("params.npy")
    data = bytearray(path.read_bytes())
    data[info.header_offset + 200] ^= 0xFF  # inside the stored parameters: CRC mismatch
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=str(path)):
        fastmlp.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="m.npz"):
        fastmlp.load(tmp_path / "m.npz")


def test_lazy_exports():
    assert fastmlp.load is estimator.load
    assert fastmlp.ModelFileError is ModelFileError


def test_the_format_module_imports_nothing_from_the_estimator():
    """persistence knows the file format only: no import of the estimator side, even
    inside a function (the estimator hands it the state and the restoring function)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(persistence))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    assert imported, "the parse found no imports at all"
    forbidden = ("fastmlp.estimator", "fastmlp.fitted", "fastmlp.network", "fastmlp.training")
    assert not [name for name in imported if name.startswith(forbidden)]
    assert "importlib" not in imported and "__import__" not in inspect.getsource(persistence)


# -- reliability (issue 11) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "hyperparams, message",
    [
        ({"activation": "bogus"}, "activation"),
        ({"hidden_layer_sizes": "abc"}, "hidden_layer_sizes"),
        ({"random_state": "x"}, "random_state"),
        ({"callbacks": ["print"]}, "callbacks"),
        ({"max_iter": 1e9}, "max_iter"),
        ({"_network": 1}, "_network"),
    ],
)
def test_hyperparameters_are_checked_on_load(tmp_path, model, hyperparams, message):
    import json

    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path) as archive:
        stored = json.loads(str(archive["hyperparams"]))
    _rewrite(path, hyperparams=np.array(json.dumps({**stored, **hyperparams})))
    with pytest.raises(ModelFileError, match=message):
        fastmlp.load(path)




def test_image_shape_survives_saving(tmp_path, data):
    X, y = data(144)
    images = X[:, :6].repeat(6, axis=1).reshape(144, 6, 6)
    model = _fit(images, y)
    model.save(tmp_path / "m.npz")
    loaded = fastmlp.load(tmp_path / "m.npz")
    assert loaded.image_shape_ == (6, 6)
    with pytest.raises(ValueError, match=r"\(4, 9\).*\(6, 6\)"):
        loaded.predict(images.reshape(144, 4, 9))
    np.testing.assert_array_equal(loaded.predict(images), model.predict(images))
