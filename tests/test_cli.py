"""The fastmlp command, run in-process: train --save/--plot/--json, evaluate, errors."""

import importlib.util
import json
import sys

import numpy as np
import pooch
import pytest

import fastmlp
from fastmlp import cli, metrics

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
    assert "matplotlib" in line and 'pip install -e ".[plot]"' in line
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


def test_model_of_another_shape(mirror_env, tmp_path, capsys, blobs, quiet_convergence):
    X, y = blobs(n=50)
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
    labels, matrix = metrics.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]))
    assert labels.tolist() == [0, 1, 2]
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    text = metrics.format_confusion_matrix(labels, matrix)
    assert text.splitlines()[1].split() == ["0", "1", "1", "0"]


# -- your own data: --data FILE.npz --------------------------------------------------------


def _digits(tmp_path, **changes):
    """scikit-learn's 8x8 digits as a --data file, with arrays replaced by ``changes``."""
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    x, y = (digits.images * 15).astype(np.uint8), digits.target
    arrays = {"x_train": x[:1400], "y_train": y[:1400], "x_test": x[1400:], "y_test": y[1400:]}
    arrays.update(changes)
    path = tmp_path / "digits.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


DATA_FAST = ["--epochs", "15", "--hidden", "32", "--batch-size", "32"]


def test_train_and_evaluate_your_own_data(tmp_path, capsys):
    data = _digits(tmp_path)
    model_path = tmp_path / "model.npz"
    argv = ["train", "--data", str(data), *DATA_FAST, "--save", str(model_path), "--json"]
    assert cli.main(argv) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["layer_sizes"] == [64, 32, 10] and trained["n_test"] == 397
    assert trained["data"] == str(data) and trained["dataset"] is None
    assert trained["accuracy"] > 0.8 and trained["warnings"] == []

    # the model remembers its data file, and evaluate asks for it
    assert cli.main(["evaluate", str(model_path)]) == cli.EXIT_ERROR
    assert "--data" in _one_error_line(capsys.readouterr())
    assert cli.main(["evaluate", str(model_path), "--data", str(data), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["accuracy"] == trained["accuracy"] and evaluated["data"] == str(data)


@pytest.mark.parametrize("solver, lr", [("sgd", "1000"), ("sgd", "100")])
def test_a_blown_up_run_fails_naming_the_flag_and_saves_nothing(tmp_path, capsys, solver, lr):
    model_path = tmp_path / "model.npz"
    argv = ["train", "--data", str(_digits(tmp_path)), "--epochs", "3", "--hidden", "32",
            "--solver", solver, "--lr", lr, "--save", str(model_path)]
    assert cli.main(argv) == cli.EXIT_ERROR
    line = _one_error_line(capsys.readouterr())
    assert "diverged" in line and f"Lower --lr (now {float(lr)})" in line
    assert "learning_rate_init" not in line
    assert not model_path.exists()


def test_evaluate_needs_only_the_test_arrays(tmp_path, capsys):
    data = _digits(tmp_path)
    assert cli.main(["train", "--data", str(data), *DATA_FAST, "--save",
                     str(tmp_path / "m.npz"), "--json"]) == 0
    capsys.readouterr()
    arrays = dict(np.load(data))
    test_only = tmp_path / "test.npz"
    np.savez(test_only, x_test=arrays["x_test"], y_test=arrays["y_test"])
    assert cli.main(["evaluate", str(tmp_path / "m.npz"), "--data", str(test_only)]) == 0
    # but train needs all four
    assert cli.main(["train", "--data", str(test_only)]) == cli.EXIT_ERROR
    line = _one_error_line(capsys.readouterr())
    assert "x_train" in line and "y_train" in line and "np.savez" in line


def _bad_files():
    """(id, writer(path), words the error must contain) for --data files that are refused."""
    rng = np.random.default_rng(0)
    x, y = rng.random((20, 4)), np.arange(20) % 2

    def savez(**arrays):
        base = {"x_train": x, "y_train": y, "x_test": x[:5], "y_test": y[:5]}
        base.update(arrays)
        return lambda path: np.savez(path, **{k: v for k, v in base.items() if v is not None})

    def raw(content: bytes):
        return lambda path: path.write_bytes(content)

    def npy(path):
        with open(path, "wb") as stream:
            np.save(stream, x)

    def huge_header(path, bomb="x_train", shape=(10**9, 10**6)):
        import zipfile

        header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 1), np.float64))
        header["shape"] = shape
        with zipfile.ZipFile(path, "w") as archive, archive.open(f"{bomb}.npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, header)
        arrays = {"x_train": x, "y_train": y, "x_test": x, "y_test": y}
        del arrays[bomb]
        with zipfile.ZipFile(path, "a") as archive:
            for key, value in arrays.items():
                with archive.open(f"{key}.npy", "w") as member:
                    np.lib.format.write_array(member, value)

    objects = np.empty(20, dtype=object)
    objects[:] = [{"a": i} for i in range(20)]
    return [
        ("missing-y_test", savez(y_test=None), ["y_test", "np.savez"]),
        ("missing-all", savez(x_train=None, y_train=None, x_test=None, y_test=None),
         ["x_test", "no arrays"]),
        ("x-1d", savez(x_train=x[:, 0]), ["x_train", "shape"]),
        ("x-4d", savez(x_train=x.reshape(20, 1, 2, 2)), ["x_train", "shape"]),
        ("x-empty", savez(x_train=x[:0]), ["x_train", "no data"]),
        ("y-2d", savez(y_train=y.reshape(-1, 1)), ["y_train", "ravel"]),
        ("x-complex", savez(x_train=x.astype(complex)), ["x_train", "complex"]),
        ("x-strings", savez(x_train=x.astype(str)), ["x_train", "dtype"]),
        ("y-object-pickled", savez(y_train=objects), ["y_train", "object", "pickle"]),
        ("x-object-pickled", savez(x_test=np.array([x[0], "a"], dtype=object)),
         ["x_test", "pickle"]),
        ("y-fractional", savez(y_train=y + 0.5), ["y_train", "fractional"]),
        ("lengths", savez(y_train=y[:19]), ["x_train", "20 rows", "19 labels"]),
        ("test-lengths", savez(y_test=y[:3]), ["x_test", "5 rows", "3 labels"]),
        ("features", savez(x_test=x[:5, :3]), ["4 features", "3"]),
        ("x-nan", savez(x_train=np.where(np.eye(20, 4) == 1, np.nan, x)), ["x_train", "NaN"]),
        ("x-inf", savez(x_test=np.full((5, 4), np.inf)), ["x_test", "infinity"]),
        ("y-nan", savez(y_test=np.array([0, 1, np.nan, 1, 0])), ["y_test", "NaN"]),
        ("text-file", raw(b"x_train,y_train\n1,2\n"), ["not an .npz archive"]),
        ("empty-file", raw(b""), ["not an .npz archive"]),
        ("npy-not-npz", npy, ["not an .npz archive"]),
        ("truncated-zip", raw(b"PK\x03\x04" + bytes(40)), ["npz"]),
        # declared sizes the stored bytes cannot hold: refused before anything is read
        ("header-bomb", huge_header, ["x_train", "declares", "holds 128 bytes"]),
        ("test-header-bomb", lambda path: huge_header(path, "x_test"), ["x_test", "declares"]),
        ("features-before-reading", lambda path: huge_header(path, shape=(20, 5 * 10**6)),
         ["x_train", "(20, 5000000)", "800,000,000 bytes"]),
        ("rows-before-reading", lambda path: huge_header(path, shape=(10**5, 4)),
         ["x_train", "(100000, 4)", "declares"]),
        ("image-shapes", savez(x_train=x.reshape(20, 2, 2), x_test=x[:5].reshape(5, 2, 2)
                               .transpose(0, 2, 1).copy().reshape(5, 1, 4)),
         ["x_train", "2x2 pixels", "1x4 pixels"]),
    ]


@pytest.mark.parametrize(
    ("command", "write", "words"),
    [
        pytest.param(command, w, words, id=f"{command}-{name}")
        for command in ("train", "evaluate")
        for name, w, words in _bad_files()
        # evaluate reads only x_test and y_test
        if command == "train" or not {"x_train", "y_train"} & set(words)
    ],
)
def test_bad_data_file_is_one_line_naming_the_file(tmp_path, capsys, write, words, command,
                                                   blobs, quiet_convergence):
    data = tmp_path / "mine.npz"
    write(data)
    if command == "train":
        argv = ["train", "--data", str(data), *DATA_FAST]
        if "fractional" in words:  # float targets alone would train a regressor
            argv += ["--task", "classification"]
    else:
        X, y = blobs(n=20, n_features=4, n_classes=2)
        model = fastmlp.MLPClassifier(hidden_layer_sizes=(3,), max_iter=1).fit(X, y)
        model.save(tmp_path / "m.npz")
        argv = ["evaluate", str(tmp_path / "m.npz"), "--data", str(data)]
    assert cli.main(argv) == cli.EXIT_ERROR
    captured = capsys.readouterr()
    line = _one_error_line(captured)
    assert f"--data {data}" in line
    for word in words:
        assert word in line
    assert captured.out == ""


@pytest.mark.parametrize("target", ["missing-folder", "folder"])
def test_data_path_that_is_no_file(tmp_path, capsys, target):
    path = tmp_path / "nope" / "d.npz" if target == "missing-folder" else tmp_path
    assert cli.main(["train", "--data", str(path)]) == cli.EXIT_ERROR
    assert f"--data {path}" in _one_error_line(capsys.readouterr())


def test_labels_the_model_never_saw_are_warned_about(tmp_path, capsys):
    data = _digits(tmp_path)
    assert cli.main(["train", "--data", str(data), *DATA_FAST, "--save",
                     str(tmp_path / "m.npz"), "--json"]) == 0
    capsys.readouterr()
    x_test = np.load(data)["x_test"]
    renamed = tmp_path / "renamed.npz"  # same digits, labels as strings: nothing matches
    np.savez(renamed, x_test=x_test, y_test=np.load(data)["y_test"].astype(str))
    assert cli.main(["evaluate", str(tmp_path / "m.npz"), "--data", str(renamed),
                     "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["accuracy"] == 0
    assert len(result["warnings"]) == 1 and "accuracy is 0" in result["warnings"][0]
    assert captured.err.startswith("fastmlp: warning: ") and "Traceback" not in captured.err

    partly = tmp_path / "partly.npz"  # one class the model never saw
    y = np.load(data)["y_test"].copy()
    y[:7] = 42
    np.savez(partly, x_test=x_test, y_test=y)
    assert cli.main(["evaluate", str(tmp_path / "m.npz"), "--data", str(partly)]) == 0
    captured = capsys.readouterr()
    assert "7 of 397 samples" in captured.err and "[42]" in captured.err
    assert captured.out.startswith("model")


# -- every flag and path is checked before any download or training ---------------------


@pytest.mark.parametrize(
    ("argv", "flag", "parameter"),
    [
        (["--epochs", "0"], "--epochs", "max_iter"),
        (["--epochs", "-3"], "--epochs", "max_iter"),
        (["--lr", "0"], "--lr", "learning_rate_init"),
        (["--lr=-1e-3"], "--lr", "learning_rate_init"),
        (["--lr", "nan"], "--lr", "learning_rate_init"),
        (["--batch-size", "0"], "--batch-size", "batch_size"),
        (["--hidden", "0"], "--hidden", "hidden_layer_sizes"),
        (["--hidden", "64", "-2"], "--hidden", "hidden_layer_sizes"),
        (["--hidden", "1000000000"], "--hidden", "hidden_layer_sizes"),
        (["--hidden", "100000", "100000", "100000"], "--hidden", "hidden_layer_sizes"),
        (["--hidden", "16", "--batch-size", "100000000000"], "--batch-size", "batch_size"),
    ],
)
def test_bad_values_name_the_flag_before_any_download(mirror_env, data_server, capsys, argv,
                                                      flag, parameter):
    assert cli.main(["train", *argv]) == cli.EXIT_ERROR
    line = _one_error_line(capsys.readouterr())
    assert flag in line and parameter not in line
    assert data_server.total_requests == 0


@pytest.mark.parametrize("value", ["-1", "x", "1.5"])
def test_bad_seed_is_a_usage_error(capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--seed", value])
    assert exit_info.value.code == 2
    assert "--seed" in capsys.readouterr().err


def test_flag_message_maps_parameter_names():
    assert cli.flag_message("max_iter must be >= 1") == "--epochs must be >= 1"
    assert cli.flag_message("learning_rate_init must be positive; learning_rate='x'") == (
        "--lr must be positive; learning_rate='x'"
    )
    assert cli.flag_message("dtype='f16' is not supported") == "--dtype='f16' is not supported"


@pytest.mark.parametrize(
    ("flag", "target", "words"),
    [
        ("--save", "missing/m.npz", ["does not exist", "mkdir"]),
        ("--plot", "missing/c.png", ["does not exist", "mkdir"]),
        ("--save", ".", ["is a folder"]),
        ("--plot", ".", ["is a folder"]),
        ("--plot", "curves.xyz", [".xyz", ".png"]),
    ],
)
def test_bad_output_paths_fail_before_any_download(mirror_env, data_server, tmp_path, capsys,
                                                   monkeypatch, flag, target, words):
    if flag == "--plot":
        pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", *FAST, flag, target]) == cli.EXIT_ERROR
    line = _one_error_line(capsys.readouterr())
    assert f"{flag} {target}" in line
    for word in words:
        assert word in line
    assert data_server.total_requests == 0
    assert not any(tmp_path.iterdir())  # nothing written, not even the cache folder


def test_failed_save_names_the_flag_not_a_temp_file(tmp_path, capsys, monkeypatch):
    data = _digits(tmp_path)
    target = tmp_path / "out" / "m.npz"
    target.parent.mkdir()

    def fail(model, path, metadata=None):
        raise OSError(28, "No space left on device", str(target.parent / ".m.npz.tmp123"))

    monkeypatch.setattr(fastmlp.MLPClassifier, "save", fail)
    assert cli.main(["train", "--data", str(data), *DATA_FAST, "--save", str(target)]) == 1
    line = _one_error_line(capsys.readouterr())
    assert f"--save {target}" in line and "No space left" in line and "tmp" not in line.split(
        str(target))[1]


@pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="needs matplotlib")
def test_plot_has_a_title_and_percent_accuracy(tmp_path, capsys, monkeypatch):
    from matplotlib.figure import Figure

    saved = []
    monkeypatch.setattr(Figure, "savefig", lambda self, path, **kw: saved.append(self))
    data = _digits(tmp_path)
    assert cli.main(["train", "--data", str(data), *DATA_FAST, "--plot",
                     str(tmp_path / "c.png"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    (figure,) = saved
    assert "64-32-10 relu" in figure.get_suptitle() and "digits.npz" in figure.get_suptitle()
    loss_axes, accuracy_axes = figure.axes
    assert "log loss" in loss_axes.get_ylabel()
    assert "%" in accuracy_axes.get_ylabel()
    plotted = accuracy_axes.lines[0].get_ydata()
    assert np.allclose(plotted, 100 * np.array(result["test_accuracy_curve"]))
    assert figure.get_size_inches()[0] * figure.dpi >= 1000  # pixels wide


def test_train_help_documents_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = capsys.readouterr().out
    parser = cli.build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    for action in train._actions:
        assert action.help, f"{action.option_strings} has no help text"
    assert "examples:" in text and "random_state" not in text
    assert "default from the preset: 128 (default), 16 (notebook)" in " ".join(text.split())


@pytest.mark.parametrize("error", [KeyError("n_features_in_"), TypeError("bad"),
                                   IndexError("x"), MemoryError(), OverflowError("2**62")])
def test_any_failure_to_read_a_model_is_one_line(tmp_path, capsys, monkeypatch, error):
    from fastmlp import fitted

    def fail(path):
        raise error

    monkeypatch.setattr(fitted, "load_with_metadata", fail)
    path = tmp_path / "damaged.npz"
    assert cli.main(["evaluate", str(path)]) == cli.EXIT_ERROR
    line = _one_error_line(capsys.readouterr())
    assert str(path) in line and type(error).__name__ in line


def test_dataset_errors_keep_their_lines_and_others_become_one():
    error = fastmlp.DatasetError("could not fetch mnist file x.gz\n  a.example: HTTP 404\n"
                                 "  b.example: timed out\nTo fix: set FASTMLP_MIRROR.")
    assert cli.format_error(error).splitlines() == [
        "fastmlp: error: could not fetch mnist file x.gz",
        "  a.example: HTTP 404",
        "  b.example: timed out",
        "  To fix: set FASTMLP_MIRROR.",
    ]
    assert cli.format_error(ValueError("two\nlines  here")) == "fastmlp: error: two lines here"


def test_failed_download_keeps_one_line_per_mirror(mirror_env, data_server, monkeypatch,
                                                   capsys):
    from datahelp import DEAD, set_mirrors

    set_mirrors(monkeypatch, "mnist", f"{DEAD}/mnist/")
    data_server.fail["/mnist/train-images-idx3-ubyte.gz"] = 404
    assert cli.main(["train", *FAST]) == cli.EXIT_ERROR
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines[0].startswith("fastmlp: error: could not download mnist file")
    assert any("HTTP 404" in line for line in lines[1:])
    assert any("connection refused" in line for line in lines[1:])
    assert lines[-1].startswith("  To fix:")
    assert all(line.startswith("  ") for line in lines[1:])
    assert "Traceback" not in captured.err and captured.out == ""


def test_hidden_error_speaks_in_flags(capsys):
    assert cli.main(["train", "--hidden", "64", "0"]) == cli.EXIT_ERROR
    line = _one_error_line(capsys.readouterr())
    assert "got --hidden 64 0" in line and "--hidden 128 64" in line and "(" not in line


def test_an_unwritable_cache_names_the_flag(tmp_path, capsys):
    (tmp_path / "a-file").touch()  # no folder can be made below a file, even by root
    cache = tmp_path / "a-file" / "cache"
    assert cli.main(["download", "mnist", "--data-home", str(cache)]) == cli.EXIT_ERROR
    line = _one_error_line(capsys.readouterr())
    assert "pass --data-home DIR" in line and "data_home=" not in line


@pytest.mark.parametrize("preset, model_line", [
    ("default", "model        64-16-10 relu, adam 0.01 (cosine), batch 256, float32"),
    ("notebook", "model        64-16-10 logistic, sgd 0.01 (constant), batch 1, float64"),
])
def test_train_report_names_the_recipe(tmp_path, capsys, preset, model_line):
    argv = ["train", "--data", str(_digits(tmp_path)), "--preset", preset, "--epochs", "1",
            "--hidden", "16"]
    assert cli.main(argv) == 0
    assert model_line in capsys.readouterr().out.splitlines()
