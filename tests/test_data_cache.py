"""The cache folder: parsed copies checked by digest, file modes, permissions, the lock,
leftovers of killed processes, concurrent processes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from datahelp import (
    DEAD,
    IMAGES,
    LABELS,
    TIGHT,
    as_another_user,
    assert_only_good_files,
    child_code,
    files,
    flat,
    python,
    raw_names,
    scripted,  # noqa: F401 (fixture)
    stall,
    tiny_dataset,
    wait_for,
)

from fastmlp import datasets
from fastmlp.data import cache, downloads
from fastmlp.datasets import DatasetError

# -- group 3: a parsed copy whose contents differ is never served -------------------------


def resave(transform):
    def tamper(path: Path) -> None:
        array = transform(np.load(path))
        with open(path, "wb") as file:  # same name: only the contents differ
            np.save(file, array, allow_pickle=True)

    return tamper


def edit_bytes(edit):
    def tamper(path: Path) -> None:
        path.write_bytes(edit(path.read_bytes()))

    return tamper


def huge_header(path: Path) -> None:
    array = np.load(path)
    with open(path, "wb") as file:
        header = {"descr": array.dtype.str, "fortran_order": False, "shape": (10**12, 4, 4)}
        np.lib.format.write_array_header_1_0(file, header)
        file.write(array.tobytes())


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


TAMPER = {
    # name: (file whose parsed copy is changed, how)
    "labels-shifted": (LABELS, resave(lambda y: np.roll(y, 1))),
    "labels-plus-one": (LABELS, resave(lambda y: y + 1)),
    "images-other-shape": (IMAGES, resave(lambda x: x.reshape(len(x), -1))),
    "images-other-dtype": (IMAGES, resave(lambda x: x.astype(np.float32))),
    "images-same-bytes-signed": (IMAGES, resave(lambda x: x.view(np.int8))),
    "images-transposed": (IMAGES, resave(lambda x: x.transpose(0, 2, 1))),
    "images-fortran-order": (IMAGES, resave(np.asfortranarray)),
    "images-object-pickle": (IMAGES, resave(lambda x: np.array([x], dtype=object))),
    "one-byte-flipped": (IMAGES, edit_bytes(flip_last_byte)),
    "truncated": (IMAGES, edit_bytes(lambda d: d[:-1])),
    "extended": (LABELS, edit_bytes(lambda d: d + b"\0")),
    "empty": (LABELS, edit_bytes(lambda d: b"")),
    "header-declares-48-TB": (IMAGES, huge_header),
    # headers NumPy's parser fails on with TokenError and SyntaxError, not ValueError
    "header-unclosed-string": (IMAGES, edit_bytes(lambda d: d.replace(b"'shape'", b"'''shap"))),
    "header-unclosed-bracket": (LABELS, edit_bytes(lambda d: d.replace(b"False", b"Fals("))),
    "header-bad-syntax": (IMAGES, edit_bytes(lambda d: d.replace(b", 4, 4)", b", 4; 4)"))),
}


def parsed_copy(directory: Path, raw: str) -> Path:
    (path,) = directory.glob(f"{raw.removesuffix('.gz')}.*.npy")
    return path


@pytest.mark.parametrize("case", TAMPER)
def test_a_tampered_parsed_copy_is_never_served(
    case: str, tmp_path: Path, scripted, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    tiny_dataset(tmp_path / "mirror", monkeypatch, n_images=3, side=4)
    server = scripted(files(tmp_path / "mirror"))
    home = tmp_path / "cache"
    good = flat(datasets.load_dataset("tiny", data_home=home, mirror=server.url))
    target, tamper = TAMPER[case]
    path = parsed_copy(home / "tiny", target)
    tamper(path)

    again = flat(datasets.load_dataset("tiny", data_home=home, mirror=DEAD))

    for a, b in zip(good, again, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert server.total_requests == 4  # parsed again from the raw file, verified locally
    assert_only_good_files(home / "tiny", *raw_names(datasets.DATASETS["tiny"]))
    # and the rewritten copy is intact again
    names = cache.listing(home / "tiny")
    spec = datasets.DATASETS["tiny"]
    assert all(cache.load_parsed(home / "tiny", names, f, h) is not None for f, h in spec.files)


def test_shifted_mnist_labels_in_the_parsed_cache_are_not_served(
    mirror_env: Path, data_server
) -> None:
    (_, y_train), _ = datasets.load_mnist()
    path = parsed_copy(mirror_env / "mnist", LABELS)
    np.save(path, np.roll(y_train, 1))
    (x_train, y_train), _ = datasets.load_mnist()
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert data_server.total_requests == 4
    path = parsed_copy(mirror_env / "mnist", IMAGES)
    np.save(path, x_train.reshape(60000, 784))
    (x_train, _), _ = datasets.load_mnist()
    assert x_train.shape == (60000, 28, 28)


# -- group 10: modes follow the umask; permission problems say what to do ------------------


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_cache_files_follow_the_umask(
    umask: int, tmp_path: Path, scripted, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    tiny_dataset(tmp_path / "mirror", monkeypatch)
    server = scripted(files(tmp_path / "mirror"))
    previous = os.umask(umask)
    try:
        datasets.load_dataset("tiny", data_home=tmp_path / "a", mirror=server.url)
        datasets.download("tiny", source=tmp_path / "mirror", data_home=tmp_path / "b")
    finally:
        os.umask(previous)
    for home in (tmp_path / "a", tmp_path / "b"):
        folder = home / "tiny"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
        assert len(modes) == (9 if home.name == "a" else 5)  # 4 raw (+ 4 parsed) + lock
        assert set(modes.values()) == {0o666 & ~umask}, modes


def load_as_another_user(home: Path, spec) -> subprocess.CompletedProcess:
    body = (
        "from fastmlp.datasets import DatasetError, load_dataset\n"
        "try:\n"
        f"    (x, y), _ = load_dataset('tiny', data_home={str(home)!r}, mirror='{DEAD}')\n"
        "    print('loaded', x.sum(), y.tolist())\n"
        "except DatasetError as error:\n"
        "    print('DatasetError:', error)\n"
    )
    return subprocess.run(
        [*as_another_user(), sys.executable, "-c", child_code(spec, body)],
        capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    "situation",
    ["raw-unreadable", "folder-unreadable", "parsed-unreadable-read-only", "read-only-missing"],
)
def test_a_cache_of_another_user(
    situation: str, tmp_path: Path, scripted, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    spec = tiny_dataset(tmp_path / "mirror", monkeypatch)
    server = scripted(files(tmp_path / "mirror"))
    home = tmp_path / "cache"
    (x, y), _ = datasets.load_dataset("tiny", data_home=home, mirror=server.url)
    folder = home / "tiny"
    tmp_path.chmod(0o755)  # pytest's folders are private; the cache's owner shares it
    if situation == "raw-unreadable":
        for p in folder.iterdir():
            if p.suffix in (".npy", ".gz"):
                p.chmod(0) if p.suffix == ".gz" else p.unlink()
    elif situation == "folder-unreadable":
        folder.chmod(0)
    elif situation == "parsed-unreadable-read-only":
        for p in folder.glob("*.npy"):
            p.chmod(0)
        folder.chmod(0o555)
    else:
        (folder / LABELS).unlink()
        folder.chmod(0o555)
    try:
        out = load_as_another_user(home, spec)
    finally:
        folder.chmod(0o755)
        for p in folder.iterdir():
            p.chmod(0o644)
    assert out.returncode == 0, out.stderr
    message = out.stdout
    if situation == "parsed-unreadable-read-only":
        # Nothing can be written, yet the raw files suffice.
        assert message.strip() == f"loaded {x.sum()} {y.tolist()}"
        return
    assert message.startswith("DatasetError: "), message
    if situation == "read-only-missing":
        assert f"cache directory {folder} is not writable" in message
        assert "fastmlp download tiny" in message
    else:
        where = folder / IMAGES if situation == "raw-unreadable" else folder
        assert f"permission denied on {where}: the data cache {home} was probably" in message
        assert f"chmod -R a+rX {home}" in message
    assert "FASTMLP_DATA_DIR" in message and "data_home=" in message
    assert "Traceback" not in out.stderr


# -- group 14: leftovers of killed processes, the lock, concurrent processes -------------


def start_hanging_download(tmp_path: Path, scripted, monkeypatch):  # noqa: F811
    """Register "tiny" and start a process loading it from a mirror that stalls halfway
    through the train images. Returns the data set, the process and the cache folder."""
    spec = tiny_dataset(tmp_path / "mirror", monkeypatch, n_images=200, side=28)
    body = (tmp_path / "mirror" / "tiny" / IMAGES).read_bytes()
    hanging = scripted(stall(body, len(body) // 2))
    home = tmp_path / "cache"
    code = f"datasets.load_dataset('tiny', data_home={str(home)!r}, mirror={hanging.url!r})"
    return spec, python(child_code(spec, code)), home


def test_a_killed_download_leaves_nothing_for_good(
    tmp_path: Path, scripted, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    spec, child, home = start_hanging_download(tmp_path, scripted, monkeypatch)
    folder = home / "tiny"
    try:
        partial = lambda: [p for p in folder.glob("tmp*") if p.stat().st_size > 0]  # noqa: E731
        assert wait_for(partial), "the child never started writing"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        child.kill()
        child.communicate()
    assert partial()  # the killed process left its partial download
    # ... and what earlier versions or killed writers of parsed copies leave:
    planted = ["tmpab12cd_9", ".t10k-labels-idx1-ubyte.0123456789abcdef.npy.x1y2z3.tmp",
               "t10k-labels-idx1-ubyte.0123456789abcdef.npy",
               "t10k-labels-idx1-ubyte.0123456789abcdef.0123456789abcdef0123456789abcdef.npy"]
    for name in planted:
        (folder / name).write_bytes(b"left over")

    good = scripted(files(tmp_path / "mirror"))
    started = time.monotonic()
    datasets.load_dataset("tiny", data_home=home, mirror=good.url)

    assert time.monotonic() - started < 5  # the killed process's lock died with it
    assert_only_good_files(folder, *raw_names(spec))
    assert good.total_requests == 4


def test_leftovers_are_removed_on_a_warm_load_unless_a_writer_is_at_work(
    tmp_path: Path, scripted, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    spec = tiny_dataset(tmp_path / "mirror", monkeypatch)
    server = scripted(files(tmp_path / "mirror"))
    home = tmp_path / "cache"
    datasets.load_dataset("tiny", data_home=home, mirror=server.url)
    folder = home / "tiny"
    temporary = folder / f".{LABELS}.abc123.tmp"
    temporary.write_bytes(b"partial")
    from filelock import FileLock

    with FileLock(folder / cache.LOCK_NAME):  # another writer at work: hands off
        datasets.load_dataset("tiny", data_home=home, mirror=DEAD)
        assert temporary.exists()
    datasets.load_dataset("tiny", data_home=home, mirror=DEAD)
    assert not temporary.exists()
    assert_only_good_files(folder, *raw_names(spec))


def test_a_live_writer_is_waited_for_and_its_download_left_alone(
    tmp_path: Path, scripted, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    _, child, home = start_hanging_download(tmp_path, scripted, monkeypatch)
    good = scripted(files(tmp_path / "mirror"))
    folder = home / "tiny"
    try:
        assert wait_for(lambda: any(folder.glob("tmp*")))
        monkeypatch.setattr(downloads, "LIMITS", replace(TIGHT, lock_wait=0.5))
        with pytest.raises(DatasetError) as info:
            datasets.load_dataset("tiny", data_home=home, mirror=good.url)
        assert f"another fastmlp process is still filling {folder}" in str(info.value)
        assert any(folder.glob("tmp*"))  # its download was not touched
        assert good.total_requests == 0
    finally:
        child.kill()
        child.communicate()


@pytest.mark.parametrize("n_processes", [3])
def test_concurrent_first_loads_download_each_file_once(
    n_processes: int, tmp_path: Path, scripted, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    spec = tiny_dataset(tmp_path / "mirror", monkeypatch, n_images=50, side=28)
    slow = scripted(files(tmp_path / "mirror", delay=0.3))
    home = tmp_path / "cache"
    body = (
        f"(x, y), (xt, yt) = datasets.load_dataset('tiny', data_home={str(home)!r}, "
        f"mirror={slow.url!r})\n"
        "print(int(x.sum()), y.tolist(), int(xt.sum()), yt.tolist())\n"
    )
    children = [python(child_code(spec, body)) for _ in range(n_processes)]
    outputs = [child.communicate(timeout=60) for child in children]

    assert [child.returncode for child in children] == [0] * n_processes, outputs
    assert len({out for out, _ in outputs}) == 1
    assert slow.total_requests == 4
    assert_only_good_files(home / "tiny", *raw_names(spec))
    expected = flat(datasets.load_dataset("tiny", data_home=home, mirror=DEAD))
    assert outputs[0][0].split()[0] == str(int(expected[0].sum()))
