"""fastmlp train: kernels compiled before the timed fit, the flags sweep --grid also takes,
and class names in evaluate's confusion matrix."""

import io
import json
import time

import numpy as np
import pytest

from fastmlp import cli, metrics, warmup
from fastmlp.datasets import CLASS_NAMES


def _data_file(tmp_path, n=600, n_features=20, seed=0):
    """Separable synthetic data as a --data file: uint8 features, 3 classes."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centers = rng.uniform(40, 215, (3, n_features))
    x = np.clip(centers[y] + rng.normal(0, 10, (n, n_features)), 0, 255).astype(np.uint8)
    path = tmp_path / "blobs.npz"
    np.savez(path, x_train=x[:500], y_train=y[:500], x_test=x[500:], y_test=y[500:])
    return path


def test_default_preset_compiles_before_the_timed_fit(tmp_path, capsys, monkeypatch):
    calls = []

    def fake_warm_up(params, X, y, notice=None, estimator=None):
        calls.append(dict(params))
        time.sleep(0.01)
        return 12.5

    monkeypatch.setattr(warmup, "warm_up", fake_warm_up)
    argv = ["train", "--data", str(_data_file(tmp_path)), "--epochs", "2", "--hidden", "8"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert len(calls) == 1 and calls[0]["batch_size"] == 256 and calls[0]["max_iter"] == 2
    assert "kernels      12.50 s" in out
    train_line = next(line for line in out.splitlines() if line.startswith("train time"))
    assert float(train_line.split()[2]) < 12.5  # the warm-up is not counted as training
    assert "samples/s (epochs only)" in out

    assert cli.main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kernel_seconds"] == 12.5 and result["train_seconds"] < 12.5
    assert result["samples_per_s"] == pytest.approx(500 * 2 / result["epoch_seconds"])


def test_warm_up_says_it_compiles_only_when_slow(monkeypatch):
    X = np.random.default_rng(0).random((100, 4))
    y = np.arange(100) % 2
    params = {"hidden_layer_sizes": (4,), "batch_size": 16}
    slow, fast = io.StringIO(), io.StringIO()
    real_fit = warmup.fastmlp.MLPClassifier.fit

    def compiling_fit(self, X, y):
        time.sleep(0.5)  # as a cold kernel cache would
        return real_fit(self, X, y)

    with monkeypatch.context() as patch:
        patch.setattr(warmup.fastmlp.MLPClassifier, "fit", compiling_fit)
        assert warmup.warm_up(params, X, y, notice=slow, notice_after=0.05) >= 0.5
    assert slow.getvalue() == warmup.NOTICE + "\n"
    assert warmup.NOTICE == "compiling kernels (first run only) ..."
    warmup.warm_up(params, X, y, notice=fast, notice_after=60.0)
    assert fast.getvalue() == ""


def test_warm_up_covers_two_full_batches():
    assert warmup.warm_up_slice({"batch_size": 256}, 60_000) == 512
    assert warmup.warm_up_slice({"batch_size": 1}, 60_000) == warmup.WARM_UP_SAMPLES
    assert warmup.warm_up_slice({"batch_size": 256}, 300) == 300
    assert warmup.warm_up_slice({}, 60_000) == 400  # "auto": min(200, n)


def test_alpha_momentum_and_early_stopping_flags(tmp_path, capsys, monkeypatch):
    seen = {}
    real = cli.fastmlp.MLPClassifier

    class Recording(real):
        def fit(self, X, y):
            seen.update(self.get_params())
            return super().fit(X, y)

    monkeypatch.setattr(cli.fastmlp, "MLPClassifier", Recording)
    argv = ["train", "--data", str(_data_file(tmp_path)), "--epochs", "3", "--hidden", "8",
            "--solver", "sgd", "--alpha", "0.001", "--momentum", "0.5", "--early-stopping",
            "--json"]
    assert cli.main(argv) == 0
    json.loads(capsys.readouterr().out)
    assert seen["alpha"] == 0.001 and seen["momentum"] == 0.5 and seen["early_stopping"] is True


def test_a_bad_momentum_names_the_flag(tmp_path, capsys):
    argv = ["train", "--data", str(_data_file(tmp_path)), "--momentum", "2"]
    assert cli.main(argv) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "--momentum" in err and "momentum " not in err.replace("--momentum", "")


def test_sweep_help_documents_every_option(capsys):
    parser = cli.build_parser()
    sweep = parser._subparsers._group_actions[0].choices["sweep"]
    for action in sweep._actions:
        assert action.help, f"{action.option_strings} has no help text"


def test_confusion_matrix_rows_show_class_names():
    labels = np.arange(10)
    names = CLASS_NAMES["fashion-mnist"]
    text = metrics.format_confusion_matrix(labels, np.eye(10, dtype=np.int64) * 1000, names)
    rows = text.splitlines()
    assert rows[2].split()[:2] == ["1", "Trouser"] and "9 Ankle boot" in rows[10]
    assert len(names) == 10
    plain = metrics.format_confusion_matrix(labels, np.eye(10, dtype=np.int64))
    assert plain.splitlines()[2].split()[0] == "1" and "Trouser" not in plain


def test_evaluate_on_fashion_mnist_shows_class_names(mirror_env, tmp_path, capsys):
    model_path = tmp_path / "m.npz"
    assert cli.main(["train", "--dataset", "fashion-mnist", "--epochs", "1", "--hidden", "16",
                     "--save", str(model_path), "--json"]) == 0
    capsys.readouterr()
    assert cli.main(["evaluate", str(model_path)]) == 0
    out = capsys.readouterr().out
    assert "0 T-shirt/top" in out and "9 Ankle boot" in out
    assert cli.main(["evaluate", str(model_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["class_names"][1] == "Trouser"
