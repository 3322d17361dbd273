"""The fastmlp command, run in-process: train --save/--plot/--json, evaluate, errors."""

import importlib.util
import json
import sys
import warnings

import numpy as np
import pooch
import pytest

import fastmlp
from fastmlp import cli
from fastmlp.base import ConvergenceWarning

FAST = ["--epochs", "1", "--hidden", "16", "--batch-size", "256"]
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


@pytest.fixture(autouse=True)
def _quiet_downloads():
    """pooch logs each download on stderr through a handler bound to the stderr of the
    moment it was created; here stderr must hold only the command's own error line."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")
    yield
    logger.setLevel(level)


def _one_error_line(captured) -> str:
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("fastmlp: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def test_train_save_then_evaluate_to_the_same_accuracy(mirror_env, tmp_path, capsys):
    model_path = tmp_path / "model.npz"
    plot_path = tmp_path / "curve.png"
    plot = ["--plot", str(plot_path)] if HAVE_MATPLOTLIB else []
    assert cli.main(["train", *FAST, "--save", str(model_path), "--json", *plot]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1  # one JSON line, nothing else on stdout
    trained = json.loads(out)
    assert trained["layer_sizes"] == [784, 16, 10] and trained["epochs"] == 1
    assert trained["saved"] == str(model_path) and model_path.is_file()
    assert 0.8 < trained["accuracy"] <= 1 and trained["n_test"] == 10000
    if HAVE_MATPLOTLIB:
        assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert trained["test_accuracy_curve"] == [trained["accuracy"]]
    else:
        assert trained["test_accuracy_curve"] is None

    assert cli.main(["evaluate", str(model_path), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["accuracy"] == trained["accuracy"]
    assert evaluated["dataset"] == "mnist"  # recorded in the model file
    matrix = np.array(evaluated["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 10000
    assert np.trace(matrix) == round(evaluated["accuracy"] * 10000)

    assert cli.main(["evaluate", str(model_path)]) == 0
    report = capsys.readouterr().out.splitlines()
    assert report[1] == f"accuracy     {trained['accuracy']:.4f} on the 10000 mnist test images"
    assert report[2].startswith("confusion matrix")
    assert len(report) == 3 + 1 + 10  # header row and one row per class
    assert [int(n) for n in report[4].split()[1:]] == matrix[0].tolist()

    # same model, another test set of the same shape
    assert cli.main(["evaluate", str(model_path), "--dataset", "fashion-mnist", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dataset"] == "fashion-mnist"


def test_train_report_mentions_saved_file(mirror_env, tmp_path, capsys):
    path = tmp_path / "m.npz"
    assert cli.main(["train", *FAST, "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and f"saved        {path}" in out
    assert fastmlp.load(path).n_features_in_ == 784


def test_plot_without_matplotlib_fails_before_training(mirror_env, tmp_path, capsys,
                                                       monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert cli.main(["train", *FAST, "--plot", str(tmp_path / "c.png")]) == cli.EXIT_ERROR
    captured = capsys.readouterr()
    line = _one_error_line(captured)
    assert "matplotlib" in line and "fastmlp[plot]" in line
    assert captured.out == ""
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize(
    "content", [b"not a model", b"", b"PK\x03\x04 truncated"], ids=["garbage", "empty", "zip"]
)
def test_bad_model_file(tmp_path, capsys, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    assert cli.main(["evaluate", str(path)]) == cli.EXIT_ERROR
    captured = capsys.readouterr()
    assert str(path) in _one_error_line(captured)
    assert captured.out == ""


def test_bad_model_file_with_debug_shows_the_exception(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"not a model")
    with pytest.raises(fastmlp.ModelFileError):
        cli.main(["--debug", "evaluate", str(path)])


def test_missing_model_file(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path / "none.npz")]) == cli.EXIT_ERROR
    assert "none.npz" in _one_error_line(capsys.readouterr())


def test_model_of_another_shape(mirror_env, tmp_path, capsys):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 5)), np.arange(50) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = fastmlp.MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
    model.save(tmp_path / "small.npz")
    assert cli.main(["evaluate", str(tmp_path / "small.npz")]) == cli.EXIT_ERROR
    assert "784 features" in _one_error_line(capsys.readouterr())


def test_version_and_usage_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"fastmlp {fastmlp.__version__}"
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate"])  # MODEL missing
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate", "m.npz", "--dataset", "cifar"])
    assert exit_info.value.code == 2


def test_confusion_matrix_helper():
    labels, matrix = cli.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]))
    assert labels.tolist() == [0, 1, 2]
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    text = cli.format_confusion_matrix(labels, matrix)
    assert text.splitlines()[1].split() == ["0", "1", "1", "0"]
