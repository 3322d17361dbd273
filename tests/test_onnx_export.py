"""ONNX export: onnxruntime's outputs on the exported graph equal predict and predict_proba."""

import os
import warnings

import numpy as np
import pytest

from fastmlp import MLPClassifier
from fastmlp.exceptions import NotFittedError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _fitted(X, y, hidden, activation="relu", output="softmax", dtype=None, seed=0):
    """A briefly trained model whose weights are then spread out, so every unit's
    activation is exercised over a wide range."""
    model = MLPClassifier(hidden, activation, output_activation=output, max_iter=1,
                          batch_size=16, random_state=seed, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    rng = np.random.default_rng(seed)
    model.coefs_ = [rng.normal(0, 1.5 / np.sqrt(w.shape[0]), w.shape) for w in model.coefs_]
    model.intercepts_ = [rng.normal(0, 0.5, b.shape) for b in model.intercepts_]
    return model


def _run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    label, proba = session.run(["label", "probabilities"], {"X": X})
    return label, proba


def _problem(n=64, d=12, k=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = np.argmax(X @ rng.standard_normal((d, k)), axis=1)
    return X, y


@pytest.mark.parametrize("hidden", [(9,), (9, 7), (9, 7, 5)])
@pytest.mark.parametrize("output", ["softmax", "logistic"])
@pytest.mark.parametrize("activation", ["relu", "identity", "logistic", "tanh"])
def test_onnxruntime_equals_predict_proba(tmp_path, hidden, activation, output):
    X, y = _problem()
    model = _fitted(X, y, hidden, activation, output)
    path = tmp_path / "model.onnx"
    model.to_onnx(path)
    label, proba = _run(path, X)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(X))


@pytest.mark.parametrize("output", ["softmax", "logistic"])
def test_uint8_input_is_scaled_as_predict_scales_it(tmp_path, output):
    rng = np.random.default_rng(1)
    X = (rng.random((80, 20)) < 0.3) * rng.integers(0, 256, (80, 20))
    X = X.astype(np.uint8)
    y = X[:, :3].argmax(axis=1) * 10 + 3  # labels 3, 13, 23: not the column indices
    model = _fitted(X, y, (16, 8), "relu", output)
    assert model.coefs_[0].dtype == np.float32
    path = tmp_path / "digits.onnx"
    model.to_onnx(path, input_dtype="uint8")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].type == "tensor(uint8)"
    label, proba = _run(path, X)
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(X))
    assert set(label) <= {3, 13, 23}


def test_float64_model_and_string_labels(tmp_path):
    X, y = _problem(seed=2)
    labels = np.array(["cat", "dog", "eel", "fox"])[y]
    model = _fitted(X.astype(np.float64), labels, (10,), "tanh", dtype="float64")
    path = tmp_path / "m.onnx"
    model.to_onnx(path)
    X64 = X.astype(np.float64)
    label, proba = _run(path, X64)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, model.predict_proba(X64), rtol=0, atol=1e-12)
    assert label.tolist() == model.predict(X64).tolist()


def test_float64_input_to_float32_model_is_cast(tmp_path):
    X, y = _problem(seed=3)
    model = _fitted(X, y, (6,))
    path = tmp_path / "m.onnx"
    model.to_onnx(path, input_dtype="float64")
    X64 = X.astype(np.float64) + 1e-9
    label, proba = _run(path, X64)
    np.testing.assert_allclose(proba, model.predict_proba(X64), rtol=0, atol=1e-5)


def test_graph_is_standard_onnx(tmp_path):
    X, y = _problem()
    model = _fitted(X, y, (5, 5), "logistic")
    path = tmp_path / "m.onnx"
    model.to_onnx(path, input_dtype="uint8")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Cast", "Mul", "Gemm", "Sigmoid", "Gemm", "Sigmoid", "Gemm",
                   "Softmax", "ArgMax", "Gather"]
    assert [o.name for o in proto.graph.output] == ["label", "probabilities"]


def test_unfitted_model_raises_not_fitted(tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        MLPClassifier().to_onnx(tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []


def test_bad_paths_and_input_dtype_get_one_clear_error(tmp_path):
    X, y = _problem()
    model = _fitted(X, y, (4,))
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        model.to_onnx(tmp_path / "missing" / "m.onnx")
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        model.to_onnx(tmp_path)
    with pytest.raises(ValueError, match="input_dtype must be one of"):
        model.to_onnx(tmp_path / "m.onnx", input_dtype="int16")
    with pytest.raises(ValueError, match="input_dtype must be one of"):
        model.to_onnx(tmp_path / "m.onnx", input_dtype="no such type")
    assert os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    X, y = _problem()
    model = _fitted(X, y, (4,))
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(onnx.ModelProto, "SerializeToString", fail)
    with pytest.raises(OSError, match="disk full"):
        model.to_onnx(path)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["m.onnx"]


def test_missing_onnx_package_names_the_extra(tmp_path, monkeypatch):
    import sys

    X, y = _problem()
    model = _fitted(X, y, (4,))
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"fastmlp\[onnx\]"):
        model.to_onnx(tmp_path / "m.onnx")


def test_identity_output_gives_a_regressors_predictions(tmp_path):
    # the head an MLPRegressor (identity output) gets from the same exporter
    from fastmlp import onnx_export

    rng = np.random.default_rng(4)
    coefs = [rng.standard_normal((6, 5)).astype(np.float32),
             rng.standard_normal((5, 2)).astype(np.float32)]
    intercepts = [rng.standard_normal(5).astype(np.float32),
                  rng.standard_normal(2).astype(np.float32)]
    graph = onnx_export.network_graph(onnx, coefs, intercepts, "relu", "identity",
                                      np.dtype(np.float32))
    model = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", onnx_export.OPSET)],
        ir_version=onnx_export.IR_VERSION)
    path = tmp_path / "r.onnx"
    path.write_bytes(model.SerializeToString())
    X = rng.standard_normal((9, 6)).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (predictions,) = session.run(["predictions"], {"X": X})
    expected = np.maximum(X @ coefs[0] + intercepts[0], 0) @ coefs[1] + intercepts[1]
    np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-5)
