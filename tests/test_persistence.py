"""model.save(path) / fastmlp.load(path): round trip, atomic writes, damaged files."""

import decimal
import fractions
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
    real_read = np.lib.format.read_array
    monkeypatch.setattr(np.lib.format, "read_array",
                        lambda *a, **k: calls.append(k) or real_read(*a, **k))
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
    """Edit a model file's arrays; the digest goes, as in files saved before digests."""
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files if key != "digest"}
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
    forbidden = ("fastmlp.estimator", "fastmlp.fitted", "fastmlp.engine.network",
                 "fastmlp.engine.training")
    assert not [name for name in imported if name.startswith(forbidden)]
    assert "importlib" not in imported and "__import__" not in inspect.getsource(persistence)


def test_every_exception_and_warning_class_is_defined_in_exceptions():
    """One home for them (private control-flow classes, named _..., excepted)."""
    import importlib
    import inspect
    import pkgutil

    found, elsewhere = set(), []
    for info in pkgutil.walk_packages(fastmlp.__path__, "fastmlp."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, BaseException):
                if value.__module__ == "fastmlp.exceptions":
                    found.add(name)
                elif value.__module__ == info.name and not name.startswith("_"):
                    elsewhere.append(f"{info.name}.{name}")
    assert not elsewhere
    assert {"DatasetError", "ModelFileError", "NotFittedError", "DownloadError"} <= found


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


@pytest.mark.parametrize(
    "change",
    [
        dict(activation="logistic"),
        dict(activation="identity"),
        dict(output_activation="logistic"),
        dict(loss="squared_error"),
        dict(hidden_layer_sizes=(32, 16)),
        dict(dtype="float32"),
        dict(solver="sgd", alpha=0.5, learning_rate_init=0.3),
        dict(activation="tanh", output_activation="logistic", loss="squared_error",
             hidden_layer_sizes=(3,), dtype="float32"),
    ],
    ids=["activation", "identity", "output", "loss", "layers", "dtype", "training-only",
         "everything"],
)
def test_saved_model_agrees_with_the_model_in_memory(tmp_path, data, change):
    """Hyper-parameters changed after fit do not reach the fitted network; the file
    keeps the network as fitted, and the current hyper-parameters as they are."""
    X, y = data(200)
    model = _fit(X, y, dtype="float64", output_activation="softmax")
    before = model.predict_proba(X)
    model.set_params(**change)
    np.testing.assert_array_equal(model.predict_proba(X), before)  # in memory: as fitted
    model.save(tmp_path / "m.npz")
    loaded = fastmlp.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict_proba(X), before)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_params() == model.get_params()
    assert loaded.out_activation_ == model.out_activation_ == "softmax"
    assert loaded.n_layers_ == model.n_layers_ == 3
    # and a fresh fit of either trains the new architecture the same way
    for m in (model, loaded):
        m.set_params(random_state=0).fit(X, y)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_format_1_files_still_load(tmp_path, model, data):
    """Files of format 1 (no architecture key) load as before."""
    X, _ = data()
    path = tmp_path / "m.npz"
    model.save(path)
    _rewrite(path, format_version=np.array(1), architecture=None)
    np.testing.assert_array_equal(fastmlp.load(path).predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize(
    "labels",
    [
        np.array([2**70, 1, 5], dtype=object),
        np.array([2**64, -1, 5], dtype=object),
        np.array([2**70 + 1, 0.5, 2.0], dtype=object),
        np.array(["a\x00", "b", "c"], dtype=object),
        np.array([b"a", b"b", b"c"], dtype=object),
        np.array([fractions.Fraction(1, 3), fractions.Fraction(1, 2), 2], dtype=object),
        np.array([(1,), (2,), (3,)] + [None], dtype=object)[:3],
    ],
    ids=["2**70", "2**64-and-negative", "big-int-and-float", "nul-in-str", "bytes",
         "fractions", "tuples"],
)
def test_labels_that_would_not_load_back_are_refused_before_writing(tmp_path, data, labels):
    X, index = data()
    path = tmp_path / "m.npz"
    _fit(X, np.array(["x", "y", "z"])[index]).save(path)
    before = path.read_bytes()
    model = _fit(X, labels[index])
    with pytest.raises(ValueError, match="label"):
        model.save(path)
    assert path.read_bytes() == before  # the older file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


@pytest.mark.parametrize(
    "labels",
    [np.array([2**63, 1, 5], dtype=object), np.array([True, False, True], dtype=object)[:3],
     np.array([1, 2.5, 3], dtype=object), np.array([-(2**63), 0, 2**63 - 1], dtype=object)],
    ids=["uint64", "bools", "int-and-float", "int64-range"],
)
def test_object_labels_that_round_trip_are_saved(tmp_path, data, labels):
    X, index = data()
    if len(set(labels.tolist())) < 3:
        index = index % len(set(labels.tolist()))
    model = _fit(X, labels[index])
    model.save(tmp_path / "m.npz")
    loaded = fastmlp.load(tmp_path / "m.npz")
    assert loaded.classes_.tolist() == model.classes_.tolist()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def _memory_peak(call) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _zip_with(path, members: dict, compress: dict | None = None):
    """Write an archive whose members are raw bytes (hand-made headers allowed)."""
    compress = compress or {}
    with zipfile.ZipFile(path, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload, compress_type=compress.get(name, zipfile.ZIP_STORED))


def _members(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _npy_header(shape, dtype="<f8") -> bytes:
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def _npy(array) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "bomb",
    [
        # one extra key, deflated: 1 GB of zeros in a few MB
        lambda m: {**m, "extra.npy": _npy_header((2**27,)) + bytes(2**30)},
        # params whose header declares 30 GB
        lambda m: {**m, "params.npy": _npy_header((4 * 10**9,)) + m["params.npy"][128:]},
        # declared layers of a million units, params declared to match
        lambda m: {**m, "layer_sizes.npy": _npy(np.array([6, 10**6, 10**6, 3])),
                   "params.npy": _npy_header((10**12 + 10**6 * 10 + 3,))},
        # params of the declared size, deflated: 800 MB of zeros
        lambda m: {**m, "layer_sizes.npy": _npy(np.array([6, 10**7, 3])),
                   "params.npy": _npy_header((10 * 10**7 + 3,)) + bytes(8 * (10 * 10**7 + 3))},
        # a huge JSON text, deflated
        lambda m: {**m, "metadata.npy": _npy_header((), "<U200000000") + bytes(800_000_000)},
        # optimizer state of a huge declared shape
        lambda m: {**m, "optimizer_ms.npy": _npy_header((10**10,))},
    ],
    ids=["extra-key", "params-header", "layer-sizes", "deflated-params", "json", "optimizer"],
)
def test_model_files_cannot_exhaust_memory(tmp_path, model, bomb):
    path = tmp_path / "m.npz"
    model.save(path)
    members = {name[:-4] + ".npy": payload for name, payload in _members(path).items()}
    damaged = bomb(members)
    deflated = {name: zipfile.ZIP_DEFLATED for name in damaged}
    _zip_with(path, damaged, deflated)
    assert path.stat().st_size < 10**7
    errors = []

    def load():
        try:
            fastmlp.load(path)
        except ModelFileError as error:
            errors.append(error)

    peak = _memory_peak(load)
    assert peak < 50 * 2**20, f"loading took {peak / 2**20:.0f} MiB"
    if errors:  # the extra key is ignored; the others are refused, naming the file
        assert str(path) in str(errors[0])


@pytest.mark.parametrize(
    "state, message",
    [
        ({"predict": "x"}, "predict"),
        ({"t_": "abc"}, "t_"),
        ({"t_": -1}, "t_"),
        ({"t_": 1.5}, "t_"),
        ({"t_": True}, "t_"),
        ({"n_iter_": None}, "n_iter_"),
        ({"loss_curve_": "abc"}, "loss_curve_"),
        ({"loss_curve_": [1.0, "x"]}, "loss_curve_"),
        ({"loss_curve_": [1e400]}, "loss_curve_"),
        ({"loss_curve_": [10**400]}, "loss_curve_"),
        ({"best_loss_": [1.0]}, "best_loss_"),
        ({"_network": 1}, "_network"),
        ({"__class__": "int"}, "__class__"),
        ({"__dict__": {}}, "__dict__"),
        ({"classes_": [1, 2, 3]}, "classes_"),
        ({"coefs_": []}, "coefs_"),
        ({"feature_names_in_": [1, 2, 3, 4, 5, 6]}, "feature_names_in_"),
        ({"feature_names_in_": "abcdef"}, "feature_names_in_"),
        ({"feature_names_in_": ["a", "b"]}, "feature names"),
        ({"image_shape_": [2, -3]}, "image_shape_"),
        ({"n_features_in_": 7}, "n_features_in_"),
        ({"_no_improvement_count": "0"}, "_no_improvement_count"),
    ],
)
def test_state_can_set_only_known_attributes_of_checked_types(tmp_path, model, state, message):
    import json

    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path) as archive:
        attributes = json.loads(str(archive["state"]))
    _rewrite(path, state=np.array(json.dumps({**attributes, **state})))
    with pytest.raises(ModelFileError, match=message) as error:
        fastmlp.load(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    "optimizer",
    [{"kind": "adam", "learning_rate": "x", "t": 1}, {"kind": "adam", "learning_rate": 0.1,
     "t": -5}, {"kind": "adam", "learning_rate": 0.1}, {"kind": "adam", "learning_rate": 0.1,
     "t": 1.5}],
)
def test_optimizer_state_is_checked_on_load(tmp_path, model, optimizer):
    import json

    path = tmp_path / "m.npz"
    model.save(path)
    _rewrite(path, optimizer_state=np.array(json.dumps(optimizer)))
    with pytest.raises(ModelFileError, match="optimizer"):
        fastmlp.load(path)


def _deep_json(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "damage",
    [
        dict(format_version=np.array([1, 2])),
        dict(format_version=np.array("1")),
        dict(format_version=np.array(1.5)),
        dict(format_version=np.array(0)),
        dict(format=np.array(["fastmlp-model"])),
        dict(layer_sizes=np.array([2**62, 2**62, 3])),
        dict(layer_sizes=np.array([6, -8, 3])),
        dict(layer_sizes=np.array([6.0, 8.0, 3.0])),
        dict(layer_sizes=np.array([[6, 8, 3]])),
        dict(layer_sizes=np.array([6])),
        dict(layer_sizes=None),
        dict(params=np.zeros((10, 10))),
        dict(params=np.zeros(83, dtype=np.int64)),
        dict(params=np.zeros(83, dtype=np.float16)),
        dict(classes=np.array([[0, 1, 2]])),
        dict(classes=np.array([0, 1])),
        dict(classes=np.array([1 + 2j, 2, 3])),
        dict(classes=np.array([2, 1, 0])),
        dict(classes=np.array([0, 0, 1])),
        dict(params=np.full(83, np.nan)),
        dict(params=np.r_[np.zeros(82), np.inf]),
        dict(optimizer_ms=np.full(83, np.nan)),
        dict(classes_object=np.array([True, False])),
        dict(state=np.array('{"t_": 1}')),
        dict(state=np.array("[1, 2]")),
        dict(state=np.array(_deep_json(100_000))),
        dict(hyperparams=np.array(_deep_json(100_000))),
        dict(metadata=np.array("[]")),
        dict(metadata=np.array(b"bytes")),
        dict(hyperparams=np.array(["{}", "{}"])),
        dict(optimizer_state=np.array('{"learning_rate": 0.1}')),
        dict(optimizer_ms=np.zeros(3)),
        dict(optimizer_ms=np.zeros(83, dtype=np.float32)),
        dict(optimizer_vs=None),
        dict(architecture=np.array('{"activation": "relu"}')),
        dict(architecture=np.array('{"activation": 3, "output_activation": "softmax",'
                                   ' "loss": "log_loss"}')),
    ],
    ids=lambda d: "-".join(f"{k}={str(v)[:20]}" for k, v in d.items()),
)
def test_every_damaged_file_is_one_model_file_error_naming_it(tmp_path, model, damage):
    path = tmp_path / "m.npz"
    model.save(path)
    _rewrite(path, **damage)
    with pytest.raises(ModelFileError) as error:
        fastmlp.load(path)
    assert str(path) in str(error.value)
    assert "\n" not in str(error.value).strip()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_weights_that_would_not_load_back_are_refused_before_writing(tmp_path, model, bad):
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()
    model.coefs_[0][0, 0] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        model.save(path)
    assert path.read_bytes() == before
