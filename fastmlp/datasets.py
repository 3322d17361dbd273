"""Fetch, verify, cache and load MNIST-style data sets (MNIST, Fashion-MNIST, KMNIST).

The files are the publishers' original gzip-compressed IDX files, fetched with pooch
from a list of mirrors tried in order and pinned by sha256, so no mirror can feed
us different data. They are kept in ``<cache>/<data set>/<original file name>``,
where the cache is ``data_home=``, else ``$FASTMLP_DATA_DIR``, else
``pooch.os_cache("fastmlp")``. ``mirror=`` or ``$FASTMLP_MIRROR`` names a base URL
(or local folder) laid out the same way, tried before the publishers' mirrors.

Parsed arrays are also cached as ``.npy`` beside the raw files: decompressing the
training images takes about 0.3 s, loading the ``.npy`` a tenth of that.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from fastmlp.atomic import atomic_write
from fastmlp.exceptions import DatasetError
from fastmlp.idx import read_idx

__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "MIRROR_ENV",
    "DatasetError",
    "DatasetSpec",
    "download",
    "get_data_home",
    "load_dataset",
    "load_fashion_mnist",
    "load_kmnist",
    "load_mnist",
]

DATA_DIR_ENV = "FASTMLP_DATA_DIR"
"""Environment variable naming the cache folder (overridden by ``data_home=``)."""
MIRROR_ENV = "FASTMLP_MIRROR"
"""Environment variable naming a mirror tried first (overridden by ``mirror=``)."""

_log = logging.getLogger(__name__)

Split = tuple[np.ndarray, np.ndarray]
PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class DatasetSpec:
    """Where a data set's files come from and what they must hash to.

    A file's URL on a mirror is the mirror's base URL followed by the file name.

    Attributes
    ----------
    name : str
        The data set's name, also its folder in the cache and on a mirror.
    mirrors : tuple of str
        Base URLs of the publishers' mirrors, tried in order.
    files : tuple of (str, str)
        ``(file name, pooch known_hash)`` pairs in the order train images,
        train labels, test images, test labels.
    """

    name: str
    mirrors: tuple[str, ...]
    files: tuple[tuple[str, str], ...]


_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _pinned(*sha256: str) -> tuple[tuple[str, str], ...]:
    return tuple(zip(_MNIST_FILES, (f"sha256:{h}" for h in sha256), strict=True))


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "mnist",
            (
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/",
                "http://yann.lecun.com/exdb/mnist/",
            ),
            _pinned(
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ),
        ),
        DatasetSpec(
            "fashion-mnist",
            ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
            _pinned(
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            ),
        ),
        # The publisher (ROIS-CODH) posts no checksums; these sha256 are the ones
        # TensorFlow Datasets pins (url_checksums/kmnist.txt), identical to
        # torchvision's prototype KMNIST registry.
        DatasetSpec(
            "kmnist",
            (
                "https://codh.rois.ac.jp/kmnist/dataset/kmnist/",
                "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
            ),
            _pinned(
                "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
                "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
                "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
                "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
            ),
        ),
    )
}
"""The data sets fastmlp knows, by name: their mirrors and pinned file hashes."""


def _spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        valid = ", ".join(DATASETS)
        raise DatasetError(f"unknown data set {name!r}; valid names: {valid}") from None


def get_data_home(data_home: PathLike | None = None) -> Path:
    """Return the cache folder: ``data_home``, else ``$FASTMLP_DATA_DIR``, else the OS cache.

    The OS cache is ``pooch.os_cache("fastmlp")``, e.g. ``~/.cache/fastmlp`` on Linux.

    Parameters
    ----------
    data_home : path, optional
        An explicit cache folder; ``~`` is expanded.

    Returns
    -------
    Path
        The folder; it is not created here.
    """
    if data_home is None:
        data_home = os.environ.get(DATA_DIR_ENV) or None
    if data_home is None:
        # Imported here because pooch (with tqdm) takes ~0.15 s to import and most
        # loads never need it.
        import pooch

        return Path(pooch.os_cache("fastmlp"))
    return Path(data_home).expanduser()


def _local_path(url: str) -> Path | None:
    """The local file a mirror URL points at, or None when it is a network URL."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        # Imported here: urllib.request drags in http.client and email (~40 ms).
        from urllib.request import url2pathname

        return Path(url2pathname(parsed.path))
    # A one-letter scheme is a Windows drive letter.
    if len(parsed.scheme) <= 1:
        return Path(url).expanduser()
    return None


def _copier(source: Path) -> Callable[[str, str, object], None]:
    """A pooch downloader copying a local file; pooch still verifies its hash."""

    def copy(url: str, output_file: str, pooch: object) -> None:
        shutil.copyfile(source, output_file)

    return copy


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status_code} {response.reason}"
    return f"{type(exc).__name__}: {exc}"


def _check_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise DatasetError(
            f"cache directory {directory} is not writable ({exc}); set {DATA_DIR_ENV} "
            "or pass data_home= to use another folder"
        ) from exc


def _fetch(
    spec: DatasetSpec, fname: str, known_hash: str, directory: Path, urls: list[str]
) -> Path:
    """Return ``directory/fname`` with the pinned hash, trying ``urls`` in order if needed.

    pooch streams each download to a temporary file and only moves it into place
    when its hash matches, so a failed or corrupt download leaves nothing behind.
    """
    import pooch

    target = directory / fname
    algorithm, _, digest = known_hash.rpartition(":")
    if target.is_file() and pooch.file_hash(str(target), algorithm or "sha256") == digest:
        return target
    _check_writable(directory)
    # Whatever is there failed the check: never let it be mistaken for good data.
    target.unlink(missing_ok=True)
    progressbar = sys.stderr is not None and sys.stderr.isatty()
    failures: list[str] = []
    for url in urls:
        local = _local_path(url)
        downloader = None if local is None else _copier(local)
        try:
            pooch.retrieve(
                url,
                known_hash=known_hash,
                fname=fname,
                path=directory,
                downloader=downloader,
                progressbar=progressbar,
            )
            return target
        # requests' exceptions are OSErrors; pooch raises ValueError on a hash mismatch
        # or an unsupported URL scheme.
        except (OSError, ValueError) as exc:
            failures.append(f"  {url}: {_reason(exc)}")
            _log.warning("could not fetch %s: %s", url, _reason(exc))
    tried = "\n".join(failures) or "  (no mirror configured)"
    raise DatasetError(
        f"could not fetch {spec.name} file {fname} into {directory}. Tried:\n{tried}\n"
        f"Set {MIRROR_ENV} to a mirror laid out as <mirror>/{spec.name}/{fname}, or get "
        f"the four files elsewhere and run `fastmlp download {spec.name} --from DIR`."
    )


def _mirror_urls(spec: DatasetSpec, fname: str, mirror: PathLike | None) -> list[str]:
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or None
    urls = [base + fname for base in spec.mirrors]
    if mirror:
        urls.insert(0, f"{os.fspath(mirror).rstrip('/')}/{spec.name}/{fname}")
    return urls


def _npy_path(raw: Path, known_hash: str, stat: os.stat_result) -> Path:
    # Keyed by the raw file's pinned hash, size and mtime, so a replaced or
    # re-downloaded raw file never serves arrays parsed from its predecessor, and a
    # warm load need not re-hash the raw file.
    key = f"{known_hash}:{stat.st_size}:{stat.st_mtime_ns}".encode()
    digest = hashlib.blake2b(key, digest_size=8).hexdigest()
    return raw.with_name(f"{raw.name.removesuffix('.gz')}.{digest}.npy")


def _save_npy(array: np.ndarray, path: Path) -> None:
    """Write ``path`` atomically and drop parsed copies of older raw files."""
    stem = path.name.split(".", 1)[0]
    # a read-only cache is fine: the .npy only saves time, the raw files suffice
    with suppress(OSError):
        for stale in path.parent.glob(f"{stem}.*.npy"):
            stale.unlink(missing_ok=True)
        with atomic_write(path) as file:
            np.save(file, array, allow_pickle=False)


def _load_array(
    spec: DatasetSpec, fname: str, known_hash: str, directory: Path, mirror: PathLike | None
) -> np.ndarray:
    raw = directory / fname
    # No raw file or no readable .npy for it: verify (fetching if needed) and parse.
    with suppress(OSError, ValueError, EOFError):
        return np.load(_npy_path(raw, known_hash, raw.stat()), allow_pickle=False)
    raw = _fetch(spec, fname, known_hash, directory, _mirror_urls(spec, fname, mirror))
    stat = raw.stat()
    try:
        array = read_idx(raw)
    except DatasetError as exc:
        # It passed the hash check yet does not parse: never serve it again.
        with suppress(OSError):
            raw.unlink()
        fate = "could not remove it from" if raw.exists() else "removed it from"
        raise DatasetError(f"{exc}; {fate} the cache") from exc
    _save_npy(array, _npy_path(raw, known_hash, stat))
    return array


def load_dataset(
    name: str, data_home: PathLike | None = None, mirror: PathLike | None = None
) -> tuple[Split, Split]:
    """Load a data set as ``((x_train, y_train), (x_test, y_test))``, like keras.

    Files missing from the cache are downloaded first; see the module docstring
    for where they are kept and fetched from.

    Parameters
    ----------
    name : str
        ``"mnist"``, ``"fashion-mnist"`` or ``"kmnist"``.
    data_home : path, optional
        Cache folder; overrides ``$FASTMLP_DATA_DIR``.
    mirror : str, optional
        Base URL or local folder tried first, holding ``<name>/<file>``; overrides
        ``$FASTMLP_MIRROR``.

    Returns
    -------
    tuple
        For the bundled data sets: uint8 images of shape (n, 28, 28) and uint8
        labels of shape (n,), with n = 60000 for train and 10000 for test.

    Raises
    ------
    DatasetError
        If the name is unknown, the cache is not writable, no mirror delivers a
        file with the pinned checksum, or a file does not parse.

    Examples
    --------
    >>> from fastmlp import load_dataset
    >>> (x_train, y_train), (x_test, y_test) = load_dataset("fashion-mnist")
    >>> x_train.shape, x_train.dtype, x_test.shape
    ((60000, 28, 28), dtype('uint8'), (10000, 28, 28))
    >>> y_test[:5]
    array([9, 2, 1, 1, 6], dtype=uint8)
    """
    spec = _spec(name)
    directory = get_data_home(data_home) / spec.name
    x_train, y_train, x_test, y_test = (
        _load_array(spec, fname, known_hash, directory, mirror) for fname, known_hash in spec.files
    )
    for (x, y), split in (((x_train, y_train), "train"), ((x_test, y_test), "test")):
        if len(x) != len(y):
            raise DatasetError(f"{spec.name} {split} split has {len(x)} images but {len(y)} labels")
    return (x_train, y_train), (x_test, y_test)


def load_mnist(
    data_home: PathLike | None = None, mirror: PathLike | None = None
) -> tuple[Split, Split]:
    """Load MNIST handwritten digits; see [`load_dataset`][fastmlp.datasets.load_dataset].

    Parameters
    ----------
    data_home, mirror
        As for [`load_dataset`][fastmlp.datasets.load_dataset].

    Returns
    -------
    ((x_train, y_train), (x_test, y_test))
        uint8 images of shape (60000, 28, 28) and (10000, 28, 28), uint8 labels
        0-9 of shape (60000,) and (10000,).
    """
    return load_dataset("mnist", data_home, mirror)


def load_fashion_mnist(
    data_home: PathLike | None = None, mirror: PathLike | None = None
) -> tuple[Split, Split]:
    """Load Fashion-MNIST (Zalando clothing images).

    See [`load_dataset`][fastmlp.datasets.load_dataset].

    Parameters
    ----------
    data_home, mirror
        As for [`load_dataset`][fastmlp.datasets.load_dataset].

    Returns
    -------
    ((x_train, y_train), (x_test, y_test))
        uint8 images of shape (60000, 28, 28) and (10000, 28, 28), uint8 labels
        0-9 of shape (60000,) and (10000,).
    """
    return load_dataset("fashion-mnist", data_home, mirror)


def load_kmnist(
    data_home: PathLike | None = None, mirror: PathLike | None = None
) -> tuple[Split, Split]:
    """Load Kuzushiji-MNIST (cursive Japanese characters).

    See [`load_dataset`][fastmlp.datasets.load_dataset].

    Parameters
    ----------
    data_home, mirror
        As for [`load_dataset`][fastmlp.datasets.load_dataset].

    Returns
    -------
    ((x_train, y_train), (x_test, y_test))
        uint8 images of shape (60000, 28, 28) and (10000, 28, 28), uint8 labels
        0-9 of shape (60000,) and (10000,).
    """
    return load_dataset("kmnist", data_home, mirror)


def download(
    name: str,
    source: PathLike | None = None,
    data_home: PathLike | None = None,
    mirror: PathLike | None = None,
) -> list[Path]:
    """Put every file of a data set in the cache, so loading it needs no network.

    Parameters
    ----------
    name : str
        Data set name, as for [`load_dataset`][fastmlp.datasets.load_dataset].
    source : path, optional
        Import the files from this local folder (``source/<file>`` or
        ``source/<name>/<file>``) instead of downloading them; each is copied and
        checked against its pinned hash.
    data_home, mirror
        As for [`load_dataset`][fastmlp.datasets.load_dataset]; ``mirror`` is unused
        when ``source`` is given.

    Returns
    -------
    list of Path
        The cached files, in the order train images, train labels, test images,
        test labels.

    Raises
    ------
    DatasetError
        As for [`load_dataset`][fastmlp.datasets.load_dataset], or if ``source`` lacks a file.
    """
    spec = _spec(name)
    directory = get_data_home(data_home) / spec.name
    paths = []
    for fname, known_hash in spec.files:
        if source is None:
            urls = _mirror_urls(spec, fname, mirror)
        else:
            folder = Path(source).expanduser()
            candidates = [folder / fname, folder / spec.name / fname]
            found = [c for c in candidates if c.is_file()]
            if not found:
                looked = " or ".join(str(c) for c in candidates)
                raise DatasetError(f"{spec.name} file {fname} not found: no {looked}")
            urls = [str(found[0])]
        paths.append(_fetch(spec, fname, known_hash, directory, urls))
    return paths
