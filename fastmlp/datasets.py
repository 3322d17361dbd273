"""Fetch, verify, cache and load MNIST-style data sets (MNIST, Fashion-MNIST, KMNIST).

The files are the publishers' original gzip-compressed IDX files, fetched from a
list of mirrors tried in order and pinned by sha256 and size, so no mirror can
feed us different data, nor more of it than the file holds
([`fastmlp.data.downloads`][fastmlp.data.downloads] bounds every download in size and time).
They are kept in ``<cache>/<data set>/<original file name>``, where the cache is
``data_home=``, else ``$FASTMLP_DATA_DIR``, else ``pooch.os_cache("fastmlp")``.
``mirror=`` or ``$FASTMLP_MIRROR`` names a base URL (or local folder) laid out
the same way, tried before the publishers' mirrors.

Parsed arrays are also cached as ``.npy`` beside the raw files, with a digest
checked on every load ([`fastmlp.data.cache`][fastmlp.data.cache]): decompressing the
training images takes about 0.3 s, loading the ``.npy`` a tenth of that.
Processes filling one cache take turns through a file lock, and every file is
written atomically with the permissions the umask allows.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fastmlp.atomic import file_kind, new_file_mode
from fastmlp.data import cache, downloads
from fastmlp.data.idx import read_idx
from fastmlp.exceptions import DatasetError, SpecialFileError

__all__ = [
    "DATASETS",
    "DATA_DIR_ENV",
    "MIRROR_ENV",
    "CLASS_NAMES",
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
Loaded = tuple[Split, Split]
PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class DatasetSpec:
    """Where a data set's files come from, what they must hash to and how big they are.

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
    sizes : tuple of int
        Each file's size in bytes, in the same order; no download may exceed it
        by more than [`DownloadLimits.size_margin`][fastmlp.data.downloads.DownloadLimits].
    """

    name: str
    mirrors: tuple[str, ...]
    files: tuple[tuple[str, str], ...]
    sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.sizes) != len(self.files):
            raise ValueError(f"{self.name}: {len(self.files)} files but {len(self.sizes)} sizes")


_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _pinned(*pins: tuple[str, int]) -> tuple[tuple[tuple[str, str], ...], tuple[int, ...]]:
    """``files`` and ``sizes`` of a [`DatasetSpec`][fastmlp.datasets.DatasetSpec] from
    ``(sha256, size)`` pairs in the order of the MNIST file names."""
    files = tuple(zip(_MNIST_FILES, (f"sha256:{sha}" for sha, _ in pins), strict=True))
    return files, tuple(size for _, size in pins)


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
            *_pinned(
                ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
                ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
                ("8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
                ("f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
            ),
        ),
        DatasetSpec(
            "fashion-mnist",
            ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
            *_pinned(
                ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
                ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
                ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
                ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
            ),
        ),
        # The publisher (ROIS-CODH) posts no checksums; these sha256 and sizes are
        # the ones TensorFlow Datasets pins (url_checksums/kmnist.txt), the hashes
        # identical to torchvision's prototype KMNIST registry.
        DatasetSpec(
            "kmnist",
            (
                "https://codh.rois.ac.jp/kmnist/dataset/kmnist/",
                "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
            ),
            *_pinned(
                ("51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4", 18165135),
                ("e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17", 29497),
                ("edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5", 3041136),
                ("20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c", 5120),
            ),
        ),
    )
}
"""The data sets fastmlp knows, by name: their mirrors and pinned file hashes."""

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                      "Shirt", "Sneaker", "Bag", "Ankle boot"),
    # the hiragana of each class, romanized (the publisher's classmap)
    "kmnist": ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
}
"""What labels 0-9 stand for, for the data sets whose labels are not the digits themselves."""


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


def _mirrors(spec: DatasetSpec, mirror: PathLike | None) -> list[tuple[downloads.Mirror, str]]:
    """The mirrors to try, in order, each with the folder below it that holds the files."""
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or None
    found = [(downloads.Mirror.parse(base), "") for base in spec.mirrors]
    if mirror:
        found.insert(0, (downloads.Mirror.parse(mirror), spec.name))
    return found


def _check_writable(directory: Path, name: str) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise _not_writable(directory, name, exc.strerror or str(exc)) from exc


def _not_writable(directory: Path, name: str, reason: str) -> DatasetError:
    return DatasetError(
        f"cache directory {directory} is not writable ({reason}), so the files it lacks "
        f"cannot be stored. Set {DATA_DIR_ENV} or pass data_home= to use another folder, "
        f"or fill this one as a user who can write it: `fastmlp download {name}`"
    )


def _verified(path: Path, known_hash: str) -> bool:
    import pooch

    algorithm, _, digest = known_hash.rpartition(":")
    if not path.is_file():  # nor open a FIFO planted in its place: that would block
        return False
    try:
        return pooch.file_hash(str(path), algorithm or "sha256") == digest
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False


def _fetch(
    spec: DatasetSpec,
    index: int,
    directory: Path,
    sources: list[tuple[downloads.Mirror, str]],
    writable: bool,
) -> Path:
    """Return ``directory/<file>`` with the pinned hash, trying ``sources`` in order if needed.

    ``pooch.retrieve`` streams each download into a temporary file and moves it
    into place only when its hash matches; the downloaders stop a source that
    sends more than the pinned size or misses the deadline. So a failed,
    oversized or corrupt download leaves nothing behind. ``writable``
    says that the caller holds the folder's lock.
    """
    fname, known_hash = spec.files[index]
    size = spec.sizes[index]
    target = directory / fname
    if _verified(target, known_hash):
        return target
    if not writable:
        raise _not_writable(directory, spec.name, "no write permission, or read-only")
    _check_writable(directory, spec.name)
    # Whatever is there failed the check: never let it be mistaken for good data.
    target.unlink(missing_ok=True)
    import pooch

    limits = downloads.LIMITS
    failures = []
    for mirror, folder in sources:
        location = mirror.locate(*filter(None, (folder, fname)))
        downloader = None
        try:
            with _progress(fname, size) as progress, _pooch_quiet(pooch):
                downloader = mirror.downloader(location, size, limits, progress)
                pooch.retrieve(
                    location, known_hash=known_hash, fname=fname, path=directory,
                    downloader=downloader,
                )
            # pooch's temporary file, now the target, was created private (0600)
            os.chmod(target, new_file_mode())
            return target
        except ValueError:  # pooch's hash check
            algorithm = known_hash.rpartition(":")[0] or "sha256"
            reason = (
                f"{algorithm} of the {downloader.received} bytes received differs from the "
                "pinned one (a different or damaged file)"
            )
        # requests' exceptions are OSErrors
        except (downloads.DownloadError, OSError) as exc:
            _raise_if_local(exc, directory, fname)
            reason = downloads.describe(exc, limits)
        _log.debug("could not fetch %s: %s", location, reason)
        failures.append(f"  {mirror.label}: {reason}")
    tried = "\n".join(failures) or "  (no mirror configured)"
    raise DatasetError(
        f"could not download {spec.name} file {fname} into {directory}:\n{tried}\n"
        f"To fix: set {MIRROR_ENV} to a mirror laid out as <mirror>/{spec.name}/<file>, or "
        f"copy the four files from a machine that has them and run "
        f"`fastmlp download {spec.name} --from DIR`."
    )


# errors of the local disk, never of a mirror: trying the next mirror cannot help
_LOCAL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


def _raise_if_local(exc: BaseException, directory: Path, fname: str) -> None:
    """A DatasetError blaming the cache folder when ``exc`` is its disk's failure."""
    cause = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno in _LOCAL_ERRNOS:
            raise DatasetError(
                f"cannot store {fname} in the cache folder {directory}: "
                f"{cause.strerror or os.strerror(cause.errno)}. Free some space there, or set "
                f"{DATA_DIR_ENV} or pass data_home= to use another folder"
            ) from exc
        cause = cause.__cause__ or cause.__context__


@contextmanager
def _pooch_quiet(pooch) -> Iterator[None]:
    """Silence pooch's own "Downloading data from ..." lines: failures are reported once,
    all mirrors together, by the DatasetError."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def _progress(fname: str, size: int) -> Iterator[object]:
    """A progress bar on a terminal, else None."""
    if sys.stderr is None or not sys.stderr.isatty():
        yield None
        return
    from tqdm.auto import tqdm

    with tqdm(total=size, unit="B", unit_scale=True, desc=fname) as bar:
        yield bar


def _parse(raw: Path, known_hash: str, writable: bool) -> np.ndarray:
    """Parse a verified raw file; save the parsed copy when the cache is ``writable``."""
    stat = raw.stat()
    try:
        array = read_idx(raw)
    except DatasetError as exc:
        # It passed the hash check yet does not parse: never serve it again.
        with suppress(OSError):
            raw.unlink()
        fate = "could not remove it from" if raw.exists() else "removed it from"
        raise DatasetError(f"{exc}; {fate} the cache") from exc
    if writable:
        cache.save_parsed(raw.parent, raw.name, known_hash, stat, array)
    return array


@contextmanager
def _cache_errors(directory: Path) -> Iterator[None]:
    """Turn a permission problem, a cache location that is no folder, a planted lock or a
    lock held too long into a DatasetError saying what to do."""
    try:
        _check_location(directory)
        yield
    except SpecialFileError as exc:
        raise DatasetError(
            f"{exc}; remove it, or set {DATA_DIR_ENV} or pass data_home= to use another folder"
        ) from exc
    except PermissionError as exc:
        where = exc.filename or directory
        raise DatasetError(
            f"permission denied on {where}: the data cache {directory.parent} was probably "
            f"filled by another user. Ask them to share it (`chmod -R a+rX {directory.parent}`, "
            f"and g+w for a cache the group fills), or set {DATA_DIR_ENV} or pass data_home= "
            "to use a folder of your own"
        ) from exc
    except cache.LockTimeout as exc:
        raise DatasetError(
            f"{exc}: another fastmlp process is still filling {directory}. Wait for it, or "
            f"set {DATA_DIR_ENV} or pass data_home= to use another folder"
        ) from exc


def _check_location(directory: Path) -> None:
    """The cache folder, or its nearest existing parent, is a folder (followed through
    links); else one DatasetError naming what it is."""
    advice = f"set {DATA_DIR_ENV} or pass data_home= to a folder (it is created if missing)"
    for folder in (directory, *directory.parents):
        try:
            found = os.stat(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise DatasetError(
                    f"cache location {folder} is a loop of symbolic links; fix the link, or "
                    f"{advice}") from exc
            raise DatasetError(
                f"cache location {folder} cannot be reached ({exc.strerror}); {advice}"
            ) from exc
        if not stat.S_ISDIR(found.st_mode):
            raise DatasetError(
                f"cache location {folder} is {file_kind(found.st_mode)}, not a folder; {advice}"
            )
        return


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
        If the name or the mirror is invalid, the cache is not writable or
        readable, no mirror delivers a file with the pinned checksum within the
        download limits, or a file does not parse.

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
    sources = _mirrors(spec, mirror)
    directory = get_data_home(data_home) / spec.name
    with _cache_errors(directory):
        arrays = _load_arrays(spec, directory, sources)
    x_train, y_train, x_test, y_test = arrays
    for (x, y), split in (((x_train, y_train), "train"), ((x_test, y_test), "test")):
        if len(x) != len(y):
            raise DatasetError(f"{spec.name} {split} split has {len(x)} images but {len(y)} labels")
    return (x_train, y_train), (x_test, y_test)


def _load_arrays(
    spec: DatasetSpec, directory: Path, sources: list[tuple[downloads.Mirror, str]]
) -> list[np.ndarray]:
    # Warm path, no lock: every parsed copy present and intact.
    names = cache.listing(directory)
    arrays = [cache.load_parsed(directory, names, f, h) for f, h in spec.files]
    if all(array is not None for array in arrays):
        if cache.leftovers(directory, names, spec.files):
            # Tidy up, unless another process is at work here.
            with cache.lock(directory, 0, blocking=False) as held:
                if held:
                    cache.remove_leftovers(directory, spec.files)
        return arrays
    with cache.lock(directory, downloads.LIMITS.lock_wait) as writable:
        if writable:
            cache.remove_leftovers(directory, spec.files)
        names = cache.listing(directory)
        for index, (fname, known_hash) in enumerate(spec.files):
            if arrays[index] is None:
                # Another process may have filled it while we waited for the lock.
                array = cache.load_parsed(directory, names, fname, known_hash)
                if array is None:
                    raw = _fetch(spec, index, directory, sources, writable)
                    array = _parse(raw, known_hash, writable)
                arrays[index] = array
    return arrays


def load_mnist(data_home: PathLike | None = None, mirror: PathLike | None = None) -> Loaded:
    """MNIST handwritten digits: [`load_dataset`][fastmlp.datasets.load_dataset]`("mnist")`."""
    return load_dataset("mnist", data_home, mirror)


def load_fashion_mnist(data_home: PathLike | None = None, mirror: PathLike | None = None) -> Loaded:
    """Fashion-MNIST, Zalando's clothing images: `load_dataset("fashion-mnist")`."""
    return load_dataset("fashion-mnist", data_home, mirror)


def load_kmnist(data_home: PathLike | None = None, mirror: PathLike | None = None) -> Loaded:
    """Kuzushiji-MNIST, cursive Japanese characters: `load_dataset("kmnist")`."""
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
        checked against its pinned hash and size.
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
    per_file = [_mirrors(spec, mirror) if source is None else None] * len(spec.files)
    if source is not None:
        folder = Path(source).expanduser()
        for index, (fname, _) in enumerate(spec.files):
            candidates = [folder / fname, folder / spec.name / fname]
            found = [c for c in candidates if c.is_file()]
            if not found:
                looked = " or ".join(str(c) for c in candidates)
                raise DatasetError(f"{spec.name} file {fname} not found: no {looked}")
            per_file[index] = [(downloads.Mirror.parse(found[0].parent), "")]
    with _cache_errors(directory), cache.lock(directory, downloads.LIMITS.lock_wait) as writable:
        if writable:
            cache.remove_leftovers(directory, spec.files)
        return [
            _fetch(spec, index, directory, sources, writable)
            for index, sources in enumerate(per_file)
        ]
