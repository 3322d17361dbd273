"""fastmlp train and evaluate on regression targets: a float y_train (or --task regression)
trains an MLPRegressor, and both commands report its R² and RMSE."""

import json

import numpy as np
import pytest

import fastmlp
from fastmlp import cli

sklearn_datasets = pytest.importorskip("sklearn.datasets")
sklearn_metrics = pytest.importorskip("sklearn.metrics")

FIT = ["--epochs", "60", "--batch-size", "32", "--lr", "0.01", "--hidden", "16",
       "--dtype", "float64"]


def _diabetes_file(tmp_path, dtype=np.float64):
    """scikit-learn's diabetes data (shipped inside it, no download) as a --data file,
    the targets standardized; the first 350 samples train, the other 92 test."""
    X, y = sklearn_datasets.load_diabetes(return_X_y=True)
    y = ((y - y.mean()) / y.std()).astype(dtype)
    path = tmp_path / "diabetes.npz"
    np.savez(path, x_train=X[:350], y_train=y[:350], x_test=X[350:], y_test=y[350:])
    return path, X[350:], y[350:]


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_float_targets_train_a_regressor_and_report_r2_and_rmse(tmp_path, capsys):
    path, x_test, y_test = _diabetes_file(tmp_path)
    model_path = tmp_path / "model.npz"
    argv = ["train", "--data", str(path), *FIT, "--save", str(model_path), "--json"]
    assert cli.main(argv) == 0
    result = _json(capsys)
    model = fastmlp.load(model_path)
    assert isinstance(model, fastmlp.MLPRegressor)
    assert result["task"] == "regression" and "accuracy" not in result
    predicted = model.predict(x_test)
    assert result["r2"] == pytest.approx(sklearn_metrics.r2_score(y_test, predicted), abs=1e-12)
    rmse = np.sqrt(sklearn_metrics.mean_squared_error(y_test, predicted))
    assert result["rmse"] == pytest.approx(rmse, rel=1e-12)
    assert result["r2"] > 0.2  # it learned the targets, not their mean
    assert result["n_test"] == len(y_test)

    assert cli.main(["evaluate", str(model_path), "--data", str(path), "--json"]) == 0
    evaluated = _json(capsys)
    assert evaluated["task"] == "regression"
    assert evaluated["r2"] == pytest.approx(result["r2"], abs=1e-12)
    assert evaluated["rmse"] == pytest.approx(result["rmse"], rel=1e-12)


def test_the_text_reports_name_r2_and_rmse(tmp_path, capsys):
    path, _, _ = _diabetes_file(tmp_path)
    model_path = tmp_path / "model.npz"
    assert cli.main(["train", "--data", str(path), *FIT, "--save", str(model_path)]) == 0
    out = capsys.readouterr().out
    assert "R²           " in out and "RMSE         " in out and "accuracy" not in out
    assert cli.main(["evaluate", str(model_path), "--data", str(path)]) == 0
    out = capsys.readouterr().out
    assert "R²           " in out and "on the 92 test samples of diabetes.npz" in out
    assert "confusion matrix" not in out


def test_task_forces_the_estimator_either_way(tmp_path, capsys):
    X, y = sklearn_datasets.load_diabetes(return_X_y=True)
    labels = (y > np.median(y)).astype(np.int64)  # two classes, as integers
    path = tmp_path / "two.npz"
    np.savez(path, x_train=X[:350], y_train=labels[:350], x_test=X[350:], y_test=labels[350:])
    assert cli.main(["train", "--data", str(path), *FIT, "--json"]) == 0
    assert _json(capsys)["task"] == "classification"
    assert cli.main(["train", "--data", str(path), *FIT, "--task", "regression", "--json"]) == 0
    result = _json(capsys)
    assert result["task"] == "regression" and np.isfinite(result["rmse"])

    floats = tmp_path / "float_labels.npz"
    np.savez(floats, x_train=X[:350], y_train=labels[:350].astype(np.float64),
             x_test=X[350:], y_test=labels[350:].astype(np.float64))
    assert cli.main(["train", "--data", str(floats), *FIT, "--json"]) == 0
    assert _json(capsys)["task"] == "regression"
    argv = ["train", "--data", str(floats), *FIT, "--task", "classification", "--json"]
    assert cli.main(argv) == 0
    result = _json(capsys)
    assert result["task"] == "classification" and 0.5 < result["accuracy"] <= 1.0


def test_regression_on_a_built_in_data_set_is_refused_before_any_download(
    tmp_path, capsys, monkeypatch
):
    def no_download(*args, **kwargs):
        raise AssertionError("the data set was loaded")

    monkeypatch.setattr("fastmlp.datasets.load_dataset", no_download)
    argv = ["train", "--task", "regression", "--data-home", str(tmp_path)]
    assert cli.main(argv) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("fastmlp: error: --task regression needs --data FILE")


def test_nan_and_3d_regression_targets_get_one_clear_error(tmp_path, capsys):
    X, y = sklearn_datasets.load_diabetes(return_X_y=True)
    y = y.copy()
    y[7] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, x_train=X[:350], y_train=y[:350], x_test=X[350:], y_test=y[350:])
    assert cli.main(["train", "--data", str(path), *FIT]) == cli.EXIT_ERROR
    assert "y_train contains NaN (first at index (7,))" in capsys.readouterr().err
    cube = tmp_path / "cube.npz"
    np.savez(cube, x_train=X[:350], y_train=np.zeros((350, 2, 2)), x_test=X[350:],
             y_test=np.zeros((92, 2, 2)))
    assert cli.main(["train", "--data", str(cube), *FIT]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "y_train has shape (350, 2, 2)" in err and "(n_samples, n_outputs)" in err
