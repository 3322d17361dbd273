"""Files fastmlp writes and reads: special targets, long names, members, headers, digests."""

import errno
import os
import socket
import stat
import threading
import zipfile

import numpy as np
import pytest
from npyhelp import CRAFTED_HEADERS, npy_header, npy_with_header, read_members, write_members

import fastmlp
from fastmlp import atomic
from fastmlp.data import cache
from fastmlp.data.npzdata import load_npz
from fastmlp.exceptions import DatasetError, ModelFileError, SpecialFileError

pytestmark = pytest.mark.usefixtures("quiet_convergence")

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs and sockets are POSIX")


@pytest.fixture
def model(linear_classes):
    X, y = linear_classes(120, n_features=6)
    return fastmlp.MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)


def _special(tmp_path, kind):
    """A path holding a file of ``kind`` (the socket object is kept alive by the caller)."""
    path = tmp_path / f"target-{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        return path, server
    elif kind == "symlink":
        real = tmp_path / "real.npz"
        real.write_bytes(b"the old model")
        path.symlink_to(real)
    return path, None


def _describe(path):
    found = os.lstat(path)
    return stat.S_IFMT(found.st_mode), found.st_ino


def _in_thread(call, timeout=20):
    """Run ``call`` in a daemon thread: what it returned or raised, or 'hung'."""
    result = {}

    def run():
        try:
            result["value"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    return "hung" if thread.is_alive() else result


# -- item 1: only regular files are replaced -------------------------------------------------


@posix_only
@pytest.mark.parametrize("kind", ["fifo", "folder", "socket", "symlink"])
def test_save_refuses_a_target_that_is_not_a_regular_file(tmp_path, model, kind):
    path, keep = _special(tmp_path, kind)
    before = _describe(path)
    with pytest.raises(SpecialFileError, match="never replaces") as error:
        model.save(path)
    assert str(path) in str(error.value)
    assert _describe(path) == before
    if kind == "symlink":
        assert (tmp_path / "real.npz").read_bytes() == b"the old model"
    assert not [name for name in os.listdir(tmp_path) if atomic.is_temporary(name)]
    if keep is not None:
        keep.close()


@posix_only
def test_every_atomic_writer_refuses_a_fifo(tmp_path):
    """``sweep --out``, plots and the cache share the writer."""
    path = tmp_path / "table.csv"
    os.mkfifo(path)
    with pytest.raises(SpecialFileError, match="FIFO"), atomic.atomic_write(path) as file:
        file.write(b"rank,accuracy\n")
    assert stat.S_ISFIFO(os.lstat(path).st_mode)


@posix_only
def test_cli_refuses_a_special_save_target_before_training(tmp_path, capsys, monkeypatch):
    from fastmlp import cli

    fifo = tmp_path / "out.npz"
    os.mkfifo(fifo)
    monkeypatch.setattr(fastmlp.MLPClassifier, "fit", lambda *a, **k: pytest.fail("trained"))
    assert cli.main(["train", "--data", str(tmp_path / "d.npz"), "--save", str(fifo)]) == 1
    err = capsys.readouterr().err
    assert f"--save {fifo}" in err and "FIFO" in err and len(err.strip().splitlines()) == 1


# -- item 10: long names ----------------------------------------------------------------------


@pytest.mark.parametrize("length", [242, 250, 255])
def test_long_file_names_save_and_load(tmp_path, model, length):
    path = tmp_path / ("m" * (length - 4) + ".npz")
    model.save(path)
    assert fastmlp.load(path).n_features_in_ == 6
    model.save(path)  # and once more over the existing file
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_a_name_too_long_is_an_error_naming_the_target(tmp_path, model):
    path = tmp_path / ("m" * 300 + ".npz")
    with pytest.raises(OSError) as error:
        model.save(path)
    assert error.value.errno == errno.ENAMETOOLONG
    assert error.value.filename == str(path)
    assert not os.listdir(tmp_path)


def test_write_errors_name_the_target_not_the_temporary_file(tmp_path, model, monkeypatch):
    path = tmp_path / "m.npz"

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError) as error:
        model.save(path)
    assert error.value.errno == errno.ENOSPC and error.value.filename == str(path)
    assert not os.listdir(tmp_path)


def test_cli_checks_the_save_name_length_before_training(tmp_path, capsys, monkeypatch):
    from fastmlp import cli

    monkeypatch.setattr(fastmlp.MLPClassifier, "fit", lambda *a, **k: pytest.fail("trained"))
    target = tmp_path / ("m" * 300 + ".npz")
    assert cli.main(["train", "--data", str(tmp_path / "d.npz"), "--save", str(target)]) == 1
    err = capsys.readouterr().err
    assert "--save" in err and "too long" in err


# -- item 2: save refuses what load refuses ---------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"max_iter": 0}, {"solver": "lbfgs"}, {"activation": "softplus"}, {"tol": float("inf")},
     {"batch_size": 0}],
    ids=lambda change: next(iter(change)),
)
def test_save_refuses_a_model_that_would_not_load(tmp_path, model, change):
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()
    model.set_params(**change)
    name = next(iter(change))
    with pytest.raises(ValueError, match=f"Cannot save.*{name}"):
        model.save(path)
    assert path.read_bytes() == before
    assert fastmlp.load(path).get_params()[name] != change[name]


def test_the_depth_fit_allows_saves_and_loads(tmp_path, blobs):
    X, y = blobs(n=20, n_features=3, n_classes=2)
    deep = fastmlp.MLPClassifier(hidden_layer_sizes=(2,) * 1100, max_iter=1, random_state=0)
    deep.fit(X, y)
    deep.save(tmp_path / "deep.npz")
    loaded = fastmlp.load(tmp_path / "deep.npz")
    assert loaded.n_layers_ == 1102
    np.testing.assert_array_equal(loaded.predict(X), deep.predict(X))


# -- item 4: exact members, headers before data, a digest -------------------------------------


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda m: m + [("params", m[2][1])], "unexpected member 'params'"),
        (lambda m: m + [m[2]], "stored twice"),
        (lambda m: m + [("notes.npy", m[0][1])], "unexpected member 'notes.npy'"),
        (lambda m: [(name.removesuffix(".npy"), data) for name, data in m], "unexpected member"),
    ],
    ids=["bare-params", "duplicate", "unknown", "all-bare"],
)
def test_model_file_members_are_exactly_the_expected_ones(tmp_path, model, damage, message):
    path = tmp_path / "m.npz"
    model.save(path)
    write_members(path, damage(read_members(path)))
    with pytest.raises(ModelFileError, match=message) as error:
        fastmlp.load(path)
    assert str(path) in str(error.value)


def test_a_bare_member_declaring_gigabytes_is_refused_unread(tmp_path, model):
    import time

    path = tmp_path / "m.npz"
    model.save(path)
    bomb = npy_header((3 * 2**27,)) + bytes(3 * 2**30 // 64)  # declares 3 GiB
    write_members(path, read_members(path) + [("params", bomb)], {"params": zipfile.ZIP_DEFLATED})
    started = time.perf_counter()
    with pytest.raises(ModelFileError, match="unexpected member 'params'"):
        fastmlp.load(path)
    assert time.perf_counter() - started < 2


def test_a_file_altered_after_saving_is_refused(tmp_path, model):
    path = tmp_path / "m.npz"
    model.save(path)
    members = dict(read_members(path))
    # Adam's two moment buffers have the params' shape and dtype: a swap passes every header
    members["params.npy"], members["optimizer_ms.npy"] = (members["optimizer_ms.npy"],
                                                          members["params.npy"])
    write_members(path, list(members.items()))
    with pytest.raises(ModelFileError, match="changed after it was saved"):
        fastmlp.load(path)


def test_files_without_a_digest_still_load(tmp_path, model):
    path = tmp_path / "m.npz"
    model.save(path)
    members = read_members(path)
    assert "digest.npy" in dict(members)
    write_members(path, [(name, data) for name, data in members if name != "digest.npy"])
    loaded = fastmlp.load(path)
    np.testing.assert_array_equal(loaded._network.params, model._network.params)


# -- item 6: one header reader; any damage is one clear error ---------------------------------


@pytest.mark.parametrize("text", CRAFTED_HEADERS)
def test_a_damaged_model_header_is_one_model_file_error(tmp_path, model, text):
    path = tmp_path / "m.npz"
    model.save(path)
    members = [(name, npy_with_header(text) if name == "classes.npy" else data)
               for name, data in read_members(path)]
    write_members(path, members)
    with pytest.raises(ModelFileError, match="classes") as error:
        fastmlp.load(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("text", CRAFTED_HEADERS)
def test_a_damaged_cache_header_is_parsed_again(tmp_path, text):
    from filefuzz import cached_copy

    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw_name, known_hash, parsed = cached_copy(tmp_path, array)
    parsed.write_bytes(npy_with_header(text))
    assert cache.load_parsed(tmp_path, os.listdir(tmp_path), raw_name, known_hash) is None


# -- item 10: special files are never opened in a way that hangs ------------------------------


@posix_only
def test_loading_a_fifo_does_not_hang(tmp_path):
    fifo = tmp_path / "m.npz"
    os.mkfifo(fifo)
    result = _in_thread(lambda: fastmlp.load(fifo))
    assert result != "hung"
    assert isinstance(result.get("error"), ModelFileError)
    assert "FIFO" in str(result["error"]) and str(fifo) in str(result["error"])


@posix_only
def test_evaluate_on_a_fifo_is_one_line(tmp_path, capsys):
    from fastmlp import cli

    fifo = tmp_path / "m.npz"
    os.mkfifo(fifo)
    result = _in_thread(lambda: cli.main(["evaluate", str(fifo), "--data", "x.npz"]))
    assert result != "hung" and result.get("value") == 1
    err = capsys.readouterr().err
    assert "FIFO" in err and len(err.strip().splitlines()) == 1


@posix_only
@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_data_on_a_special_file_says_what_it_is(tmp_path, kind):
    path = tmp_path / "d.npz"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path = kind
    result = _in_thread(lambda: load_npz(path))
    assert result != "hung"
    error = result.get("error")
    assert isinstance(error, DatasetError)
    assert ("FIFO" if kind == "fifo" else "character device") in str(error)
    assert "does not exist" not in str(error)


# -- item 9: the plot is written atomically ---------------------------------------------------


def test_a_failed_plot_keeps_the_previous_one_and_names_the_flag(tmp_path, capsys, monkeypatch,
                                                                  blobs):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from fastmlp import cli

    X, y = blobs(n=60, n_features=4, n_classes=2)
    data = tmp_path / "d.npz"
    np.savez(data, x_train=X[:40], y_train=y[:40], x_test=X[40:], y_test=y[40:])
    plot = tmp_path / "curves.png"
    plot.write_bytes(b"the previous plot")

    def full_disk(self, target, **kwargs):
        file = open(target, "wb") if isinstance(target, str | os.PathLike) else target
        file.write(b"half a PNG")
        file.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    argv = ["train", "--data", str(data), "--epochs", "1", "--hidden", "4", "--batch-size", "8",
            "--plot", str(plot)]
    assert cli.main(argv) == 1
    # a cold compilation cache adds the warm-up's progress line; the error is one line
    err = [line for line in capsys.readouterr().err.strip().splitlines()
           if not line.startswith("compiling kernels")]
    assert len(err) == 1 and f"--plot {plot}" in err[0] and "No space left" in err[0]
    assert plot.read_bytes() == b"the previous plot"
    assert sorted(os.listdir(tmp_path)) == ["curves.png", "d.npz"]


# -- item 10: cache locations -----------------------------------------------------------------


def _load_tiny(tmp_path, monkeypatch, home):
    from datahelp import tiny_dataset

    from fastmlp import datasets

    tiny_dataset(tmp_path / "mirror", monkeypatch)
    return datasets.load_dataset("tiny", data_home=home, mirror=tmp_path / "mirror")


def test_a_data_home_that_is_a_file_says_so(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.write_text("not a folder")
    with pytest.raises(DatasetError, match="is a regular file, not a folder") as error:
        _load_tiny(tmp_path, monkeypatch, home)
    assert "not writable" not in str(error.value) and "FASTMLP_DATA_DIR" in str(error.value)


@posix_only
def test_a_symbolic_link_loop_as_data_home_says_so(tmp_path, monkeypatch):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(DatasetError, match="loop of symbolic links"):
        _load_tiny(tmp_path, monkeypatch, tmp_path / "a")


@posix_only
def test_a_planted_lock_link_is_refused_and_not_followed(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "home" / "tiny").mkdir(parents=True)
    (tmp_path / "home" / "tiny" / ".lock").symlink_to(victim)
    with pytest.raises(DatasetError, match="lock .* is a symbolic link") as error:
        _load_tiny(tmp_path, monkeypatch, tmp_path / "home")
    assert "not writable" not in str(error.value)
    assert victim.read_text() == "precious"


def test_a_full_cache_disk_is_blamed_on_the_cache_not_the_mirror(tmp_path, monkeypatch):
    from fastmlp.data import downloads

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(downloads.CappedWriter, "write", full)
    with pytest.raises(DatasetError) as error:
        _load_tiny(tmp_path, monkeypatch, tmp_path / "home")
    message = str(error.value)
    assert "No space left on device" in message and str(tmp_path / "home") in message
    assert "could not download" not in message and "mirror" not in message.lower()
