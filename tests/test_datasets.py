import gzip
import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pooch
import pytest
from datahelp import (
    DEAD,
    GOOD_LABELS,
    LABELS,
    MNIST_FILES,
    assert_only_good_files,
    flat,
    listing,
    set_mirrors,
    tiny_dataset,
)

from fastmlp import datasets
from fastmlp.data import cache, downloads
from fastmlp.datasets import DatasetError, DatasetSpec


def test_mnist_facts(mnist) -> None:
    (x_train, y_train), (x_test, y_test) = mnist
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == (
        (60000, 28, 28),
        (60000,),
        (10000, 28, 28),
        (10000,),
    )
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert np.bincount(y_train).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949
    ]  # fmt: skip
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert x_train.min() == 0 and x_train.max() == 255
    assert 33.0 < x_train.mean() < 33.6


def test_fashion_mnist_facts(fashion_mnist) -> None:
    (x_train, y_train), (x_test, y_test) = fashion_mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]  # 9 = ankle boot
    assert y_test[:5].tolist() == [9, 2, 1, 1, 6]
    assert x_train.min() == 0 and x_train.max() == 255
    assert 72.5 < x_train.mean() < 73.5


def test_registry_pins_sha256() -> None:
    assert list(datasets.DATASETS) == ["mnist", "fashion-mnist", "kmnist"]
    assert datasets.DATASETS["mnist"].mirrors[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    for spec in datasets.DATASETS.values():
        assert [fname for fname, _ in spec.files] == MNIST_FILES
        for _, known in spec.files:
            assert known.startswith("sha256:") and len(known) == len("sha256:") + 64
        # sizes beside the hashes: train images > test images > train labels > test labels
        images, labels, test_images, test_labels = spec.sizes
        assert images > test_images > labels > test_labels > 4000
    assert datasets.DATASETS["kmnist"].sizes == (18165135, 29497, 3041136, 5120)
    with pytest.raises(ValueError, match="4 files but 3 sizes"):
        DatasetSpec("x", (), datasets.DATASETS["mnist"].files, (1, 2, 3))


def test_kmnist_is_fetched_from_its_own_folder(
    tmp_path: Path, data_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "http://codh.rois.ac.jp/kmnist/dataset/kmnist/" in datasets.DATASETS["kmnist"].mirrors
    set_mirrors(monkeypatch, "kmnist")
    with pytest.raises(DatasetError) as info:
        datasets.load_kmnist(data_home=tmp_path, mirror=data_server.url)
    host = data_server.url.removeprefix("http://")
    assert f"\n  {host}: HTTP 404 File not found\n" in str(info.value)
    assert data_server.requests == {"/kmnist/train-images-idx3-ubyte.gz": 1}
    assert listing(tmp_path / "kmnist") <= {cache.LOCK_NAME}


def test_registry_matches_the_real_files(data_dir: Path) -> None:
    for name in ("mnist", "fashion-mnist"):
        spec = datasets.DATASETS[name]
        for (fname, known), size in zip(spec.files, spec.sizes, strict=True):
            data = (data_dir / name / fname).read_bytes()
            assert known == f"sha256:{hashlib.sha256(data).hexdigest()}"
            assert size == len(data)


def test_cache_layout_and_warm_loads_make_no_request(mirror_env: Path, data_server) -> None:
    first = datasets.load_mnist()
    assert dict(data_server.requests) == {f"/mnist/{fname}": 1 for fname in MNIST_FILES}
    assert_only_good_files(mirror_env / "mnist", *MNIST_FILES)

    second = datasets.load_mnist()
    for npy in (mirror_env / "mnist").glob("*.npy"):
        npy.unlink()
    third = datasets.load_mnist()  # from the raw files, re-verified by hash

    assert data_server.total_requests == 4
    for a, b, c in zip(flat(first), flat(second), flat(third), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        assert type(b) is np.ndarray and b.flags.writeable


def test_data_home_argument_beats_env(mirror_env: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    datasets.download("mnist", data_home=other)
    assert listing(other / "mnist") == {*MNIST_FILES, cache.LOCK_NAME}
    assert not mirror_env.exists()


def test_get_data_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)
    assert datasets.get_data_home() == Path(pooch.os_cache("fastmlp"))
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tmp_path / "env"))
    assert datasets.get_data_home() == tmp_path / "env"
    assert datasets.get_data_home(tmp_path / "arg") == tmp_path / "arg"


@pytest.mark.parametrize("form", ["path", "file-url"])
def test_local_mirror_beats_env_mirror(
    form: str, data_dir: Path, mirror_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, DEAD)
    set_mirrors(monkeypatch, "mnist")
    mirror = str(data_dir) if form == "path" else data_dir.as_uri()
    datasets.download("mnist", mirror=mirror)
    assert_only_good_files(mirror_env / "mnist", *MNIST_FILES)


@pytest.mark.parametrize("failure", ["404", "500", "refused"])
def test_failing_mirror_falls_through_to_the_next(
    failure: str, data_dir: Path, mirror_env: Path, data_server, serve_dir, monkeypatch
) -> None:
    second = serve_dir(data_dir)
    set_mirrors(monkeypatch, "mnist", f"{second.url}/mnist/")
    if failure == "refused":
        monkeypatch.setenv(datasets.MIRROR_ENV, DEAD)
    else:
        data_server.fail[f"/mnist/{LABELS}"] = int(failure)

    datasets.download("mnist")

    assert second.requests[f"/mnist/{LABELS}"] == 1
    if failure != "refused":
        assert data_server.requests[f"/mnist/{LABELS}"] == 1
        assert second.total_requests == 1
    assert_only_good_files(mirror_env / "mnist", *MNIST_FILES)


def test_every_mirror_failing_gives_one_short_line_per_mirror_then_the_fix(
    mirror_env: Path, data_server, monkeypatch: pytest.MonkeyPatch, caplog, capsys
) -> None:
    data_server.fail[f"/mnist/{LABELS}"] = 404
    set_mirrors(
        monkeypatch, "mnist", f"{DEAD}/mnist/", f"{data_server.url}/gone/?token=s3cret", "/no/such"
    )
    caplog.set_level(logging.DEBUG, logger="fastmlp")

    with pytest.raises(DatasetError) as info:
        datasets.download("mnist")

    host = data_server.url.removeprefix("http://")
    lines = str(info.value).splitlines()
    assert lines[0] == f"could not download mnist file {LABELS} into {mirror_env / 'mnist'}:"
    assert lines[1:5] == [
        f"  {host}: HTTP 404 Not Found",
        "  127.0.0.1:1: connection refused",
        f"  {host}: HTTP 404 File not found",
        "  /no/such: no such file or directory",
    ]
    assert lines[5].startswith("To fix: set FASTMLP_MIRROR to a mirror laid out as ")
    assert "`fastmlp download mnist --from DIR`" in lines[5]
    assert len(lines) == 6 and len(str(info.value)) < 600
    assert "s3cret" not in str(info.value)  # a token in a mirror URL is never shown
    # Said once, in the error: nothing logged above DEBUG, nothing printed.
    assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []
    assert capsys.readouterr().err == ""
    assert_only_good_files(mirror_env / "mnist", MNIST_FILES[0])


def unreachable(urllib3, requests) -> Exception:
    """What requests raises for a network without a route to the host."""
    try:
        try:
            raise OSError(101, "Network is unreachable")
        except OSError as exc:
            message = f"Failed to establish a new connection: {exc}"
            raise urllib3.exceptions.NewConnectionError(None, message) from exc
    except urllib3.exceptions.NewConnectionError as exc:
        return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/x", exc))


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda u3, rq: rq.ConnectionError(u3.exceptions.MaxRetryError(None, "/x", u3.exceptions.NameResolutionError("h", None, OSError("Name or service not known")))), "host name not found (no network?)"),  # noqa: E501
        (lambda u3, rq: rq.ConnectTimeout("timed out"), "no answer within 15 s"),
        (lambda u3, rq: rq.ReadTimeout("read timed out"), "no data for 30 s"),
        (lambda u3, rq: rq.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED " * 20), "TLS/SSL error (certificate or protocol)"),  # noqa: E501
        (lambda u3, rq: u3.exceptions.ProtocolError("Connection broken", ConnectionResetError(104, "Connection reset by peer")), "connection broken before the end of the file"),  # noqa: E501
        (lambda u3, rq: unreachable(u3, rq), "network is unreachable"),
        (lambda u3, rq: PermissionError(13, "Permission denied"), "permission denied"),
        (lambda u3, rq: RuntimeError("x" * 500), "RuntimeError: " + "x" * 120),
    ],
    ids=["dns", "connect-timeout", "stall", "tls", "broken", "unreachable", "permission", "other"],
)
def test_failure_reasons_are_short(make, reason: str) -> None:
    import requests
    import urllib3

    assert downloads.describe(make(urllib3, requests)) == reason


def corrupt_copy(data_dir: Path, root: Path, name: str, bad: str) -> Path:
    """Lay out ``root/name`` like a mirror whose ``bad`` file has one flipped byte."""
    (root / name).mkdir(parents=True)
    for fname in MNIST_FILES:
        target = root / name / fname
        if fname == bad:
            data = bytearray((data_dir / name / fname).read_bytes())
            data[len(data) // 2] ^= 0xFF
            target.write_bytes(data)
        else:
            target.symlink_to(data_dir / name / fname)
    return root


def test_hash_mismatch_leaves_nothing_then_falls_through(
    data_dir: Path, tmp_path: Path, mirror_env: Path, data_server, serve_dir, monkeypatch
) -> None:
    bad = serve_dir(corrupt_copy(data_dir, tmp_path / "bad", "mnist", LABELS))
    set_mirrors(monkeypatch, "mnist")

    with pytest.raises(DatasetError) as info:
        datasets.download("mnist", mirror=bad.url)
    message = str(info.value)
    size = (data_dir / "mnist" / LABELS).stat().st_size
    assert f"{bad.url.removeprefix('http://')}: sha256 of the {size} bytes received differs " \
        "from the pinned one" in message
    assert LABELS not in listing(mirror_env / "mnist")
    assert_only_good_files(mirror_env / "mnist", MNIST_FILES[0])

    set_mirrors(monkeypatch, "mnist", f"{data_server.url}/mnist/")
    datasets.download("mnist", mirror=bad.url)
    assert bad.requests[f"/mnist/{LABELS}"] == 2
    assert data_server.requests == {f"/mnist/{LABELS}": 1}
    assert_only_good_files(mirror_env / "mnist", *MNIST_FILES)


def test_corrupted_cache_file_is_downloaded_again(mirror_env: Path, data_server) -> None:
    datasets.download("mnist")
    (mirror_env / "mnist" / LABELS).write_bytes(b"not the labels")
    datasets.download("mnist")
    assert_only_good_files(mirror_env / "mnist", *MNIST_FILES)
    assert data_server.requests[f"/mnist/{LABELS}"] == 2
    assert data_server.total_requests == 5


def test_parsed_cache_follows_the_raw_file(
    tmp_path: Path, serve_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_dataset(tmp_path / "mirror", monkeypatch, gzip.compress(GOOD_LABELS))
    server = serve_dir(tmp_path / "mirror")
    cache = tmp_path / "cache"
    datasets.load_dataset("tiny", data_home=cache, mirror=server.url)
    raw = cache / "tiny" / LABELS
    (old_npy,) = raw.parent.glob("train-labels-idx1-ubyte.*.npy")
    old_npy.write_bytes(b"damaged")
    (_, y_train), _ = datasets.load_dataset("tiny", data_home=cache, mirror=DEAD)
    assert y_train.tolist() == [1, 2]  # unreadable .npy: parsed again from the raw file

    raw.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 7])))
    (_, y_train), _ = datasets.load_dataset("tiny", data_home=cache, mirror=server.url)
    assert y_train.tolist() == [1, 2]  # replaced raw file: stale .npy not served
    assert server.requests[f"/tiny/{LABELS}"] == 2

    st = raw.stat()
    os.utime(raw, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    datasets.load_dataset("tiny", data_home=cache, mirror=DEAD)  # touched: re-verified
    (new_npy,) = raw.parent.glob("train-labels-idx1-ubyte.*.npy")
    assert new_npy != old_npy
    assert server.total_requests == 5


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        (gzip.compress(b"\x01" + GOOD_LABELS[1:]), "wrong magic number"),
        (gzip.compress(GOOD_LABELS)[:-6], "corrupt or truncated gzip data"),
        (gzip.compress(GOOD_LABELS[:-1]), "payload is 1 bytes"),
    ],
    ids=["magic", "truncated-gzip", "length"],
)
def test_file_that_does_not_parse_is_removed(
    labels: bytes, problem: str, tmp_path: Path, serve_dir, monkeypatch
) -> None:
    tiny_dataset(tmp_path / "mirror", monkeypatch, labels)
    server = serve_dir(tmp_path / "mirror")
    cache = tmp_path / "cache"
    for attempt in (1, 2):
        with pytest.raises(DatasetError) as info:
            datasets.load_dataset("tiny", data_home=cache, mirror=server.url)
        message = str(info.value)
        assert str(cache / "tiny" / LABELS) in message
        assert problem in message and "removed it from the cache" in message
        assert LABELS not in listing(cache / "tiny")
        assert server.requests[f"/tiny/{LABELS}"] == attempt  # never trusted again


def test_tiny_dataset_loads_and_checks_split_lengths(
    tmp_path: Path, serve_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_dataset(tmp_path / "ok", monkeypatch, gzip.compress(GOOD_LABELS))
    server = serve_dir(tmp_path / "ok")
    (x, y), (xt, yt) = datasets.load_dataset("tiny", data_home=tmp_path / "c1", mirror=server.url)
    assert x.shape == (2, 2, 2) and y.tolist() == [1, 2]

    tiny_dataset(tmp_path / "bad", monkeypatch, gzip.compress(GOOD_LABELS), n_images=3)
    server = serve_dir(tmp_path / "bad")
    with pytest.raises(DatasetError, match="tiny train split has 3 images but 2 labels"):
        datasets.load_dataset("tiny", data_home=tmp_path / "c2", mirror=server.url)


@pytest.mark.parametrize("call", [datasets.load_dataset, datasets.download])
def test_unknown_name_lists_valid_names(call) -> None:
    with pytest.raises(DatasetError, match="unknown data set 'cifar10'; valid names: mnist, "
                       "fashion-mnist, kmnist"):  # fmt: skip
        call("cifar10")


def test_unwritable_cache_fails_before_any_request(tmp_path: Path, data_server) -> None:
    (tmp_path / "file.txt").write_text("a file, not a folder")
    cache = tmp_path / "file.txt" / "cache"
    with pytest.raises(DatasetError) as info:
        datasets.load_mnist(data_home=cache, mirror=data_server.url)
    message = str(info.value)
    # the file in the way is named, not a folder that is "not writable"
    assert f"cache location {tmp_path / 'file.txt'} is a regular file, not a folder" in message
    assert "FASTMLP_DATA_DIR" in message and "data_home=" in message
    assert data_server.total_requests == 0


@pytest.mark.parametrize("layout", ["flat", "nested"])
def test_download_from_source_then_load_offline(
    layout: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_mirrors(monkeypatch, "mnist", f"{DEAD}/mnist/")
    source = data_dir / "mnist" if layout == "flat" else data_dir
    paths = datasets.download("mnist", source=source, data_home=tmp_path)
    assert paths == [tmp_path / "mnist" / fname for fname in MNIST_FILES]
    (_, y_train), (_, y_test) = datasets.load_mnist(data_home=tmp_path, mirror=DEAD)
    assert y_train[:3].tolist() == [5, 0, 4] and len(y_test) == 10000


def test_download_from_source_rejects_missing_and_corrupt_files(
    data_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(DatasetError, match=f"mnist file {MNIST_FILES[0]} not found"):
        datasets.download("mnist", source=tmp_path / "empty", data_home=tmp_path / "cache")

    source = corrupt_copy(data_dir, tmp_path / "src", "mnist", LABELS) / "mnist"
    with pytest.raises(DatasetError, match="differs from the pinned one") as info:
        datasets.download("mnist", source=source, data_home=tmp_path / "cache")
    assert f"\n  {source}: sha256 of the" in str(info.value)
    assert_only_good_files(tmp_path / "cache" / "mnist", MNIST_FILES[0])


def test_download_from_mirror(mirror_env: Path, data_server) -> None:
    paths = datasets.download("fashion-mnist")
    assert paths == [mirror_env / "fashion-mnist" / fname for fname in MNIST_FILES]
    assert data_server.total_requests == 4
    assert datasets.download("fashion-mnist") == paths
    assert data_server.total_requests == 4


@pytest.mark.parametrize("tty", [False, True])
def test_progress_bar_only_on_a_terminal(
    tty: bool, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty, raising=False)
    datasets.download("mnist", source=data_dir, data_home=tmp_path)
    err = capsys.readouterr().err
    assert ("train-images-idx3-ubyte.gz" in err and "100%" in err) is tty
    assert err == "" or tty


def test_import_is_light() -> None:
    heavy = ["numba", "pooch", "requests", "filelock", "tqdm"]
    code = f"import sys, fastmlp.datasets; print([m for m in {heavy} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
