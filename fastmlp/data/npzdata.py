"""Your own data set from one ``.npz`` file: ``fastmlp train --data FILE.npz``.

The file holds the arrays ``x_train``, ``y_train``, ``x_test`` and ``y_test``,
as ``np.savez(FILE, x_train=..., y_train=..., x_test=..., y_test=...)`` writes
them. Every array's header (shape and dtype) is checked before its data is
read, pickled (object) arrays are refused, and every problem is one
[DatasetError][fastmlp.exceptions.DatasetError] line that names the file, the
array and the fix.
"""

from __future__ import annotations

import math
import os
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from fastmlp.data import npyfile
from fastmlp.data.npyfile import open_regular
from fastmlp.exceptions import DamagedFileError, DatasetError, SpecialFileError
from fastmlp.memory import physical_memory

__all__ = ["KEYS", "load_npz", "read_npz_headers"]

KEYS = ("x_train", "y_train", "x_test", "y_test")
"""The arrays a data file holds: images or feature rows, and their labels."""

_SAVEZ_HINT = "np.savez(FILE, x_train=..., y_train=..., x_test=..., y_test=...)"


def read_npz_headers(path: str | os.PathLike[str]) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of every array of a data file, without reading its data.

    Parameters
    ----------
    path : str or os.PathLike
        An ``.npz`` archive as written by ``np.savez`` or ``np.savez_compressed``.

    Returns
    -------
    dict
        ``{name: (shape, dtype)}``, names without the ``.npy`` suffix.

    Raises
    ------
    DatasetError
        The file is missing, not a regular file, not an ``.npz`` archive, or
        holds a member other than ``<key>.npy`` for a key in ``KEYS`` (each
        once), or a damaged member or header.
    """
    with _archive(Path(path)) as (_, headers):
        return {key: (header.shape, header.dtype) for key, header in headers.items()}


@contextmanager
def _archive(path: Path):
    """The open archive and its members' checked headers; DatasetError naming the file if not.

    The file is opened once, and never in a way that could block (a FIFO).
    """
    try:
        file = open_regular(path)
    except FileNotFoundError:
        raise DatasetError(
            f"{path} does not exist; name an .npz file written by {_SAVEZ_HINT}."
        ) from None
    except SpecialFileError as error:
        raise DatasetError(f"{error}; name an .npz file written by {_SAVEZ_HINT}.") from None
    except OSError as error:
        raise DatasetError(f"{path} cannot be read ({error.strerror or error}).") from None
    with file:
        if not zipfile.is_zipfile(file):
            raise DatasetError(f"{path} is not an .npz archive; write one with {_SAVEZ_HINT}.")
        try:
            with zipfile.ZipFile(file) as archive:
                size = os.fstat(file.fileno()).st_size
                infos = npyfile.members(archive, KEYS)
                headers = {key: npyfile.member_header(archive, info, size)
                           for key, info in infos.items()}
                yield archive, headers
        except (DamagedFileError, zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            if isinstance(error, DatasetError):
                raise
            raise DatasetError(
                f"{path} is a damaged .npz archive ({_one_line(error)}); "
                f"write it again with {_SAVEZ_HINT}."
            ) from None


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())[:200]
    return text if isinstance(error, DamagedFileError) else f"{type(error).__name__}: {text}"


def load_npz(
    path: str | os.PathLike[str], keys: tuple[str, ...] = KEYS, targets: str = "labels"
) -> dict[str, np.ndarray]:
    """Read and check the arrays ``keys`` of a data file.

    Parameters
    ----------
    path : str or os.PathLike
        An ``.npz`` file holding the arrays named by ``keys``, and no member
        other than ``x_train``, ``y_train``, ``x_test``, ``y_test``.
    keys : tuple of str, default=KEYS
        Which of ``x_train``, ``y_train``, ``x_test``, ``y_test`` to read; pairs
        of ``x_*`` and ``y_*`` are checked against each other.
    targets : {"labels", "values", "auto"}, default="labels"
        What ``y_*`` hold: class labels, regression targets (numbers of shape
        (n,) or (n, n_outputs), fractions allowed), or ``"auto"``: targets
        when ``y_*`` is stored as float, labels otherwise.

    Returns
    -------
    dict of str to ndarray
        The arrays by name, as stored. ``x_*`` has shape (n, n_features) or
        (n, h, w) and a numeric dtype with finite values; ``y_*`` has shape (n,)
        and holds integer, boolean or string labels (or whole-number floats);
        regression targets are finite numbers of shape (n,) or (n, n_outputs).

    Raises
    ------
    DatasetError
        One line naming the file, the array and how to fix it: a missing file or
        array, an archive that is not ``.npz``, an unexpected, bare-named or
        duplicate member, a damaged header, an object (pickled) array, a wrong
        shape or dtype, a declared size its stored bytes cannot hold,
        mismatched lengths or feature counts, NaN or infinite values.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmlp.data.npzdata import load_npz
    >>> rng = np.random.default_rng(0)
    >>> np.savez("blobs.npz", x_train=rng.random((80, 4)), y_train=np.arange(80) % 2,
    ...          x_test=rng.random((20, 4)), y_test=np.arange(20) % 2)
    >>> data = load_npz("blobs.npz")
    >>> data["x_train"].shape, data["y_test"].shape
    ((80, 4), (20,))
    """
    path = Path(path)
    with _archive(path) as (archive, headers):
        missing = [key for key in keys if key not in headers]
        if missing:
            found = ", ".join(sorted(headers)) or "no arrays"
            raise DatasetError(
                f"{path} has no array {', '.join(missing)} (it holds {found}); "
                f"write it with {_SAVEZ_HINT}."
            )
        if targets == "auto":
            y_keys = [key for key in keys if key.startswith("y_")]
            floats = y_keys and headers[y_keys[0]].dtype.kind == "f"
            targets = "values" if floats else "labels"
        for key in keys:
            _check_header(path, key, headers[key].shape, headers[key].dtype, targets)
        _check_pairs(path, {key: headers[key].shape for key in keys})  # before reading any
        arrays = {key: _read(archive, path, key) for key in keys}
    for key, array in arrays.items():
        _check_values(path, key, array, targets)
    return arrays


def _read(archive: zipfile.ZipFile, path: Path, key: str) -> np.ndarray:
    """One member's array, its header already checked; a short member names the file."""
    try:
        with archive.open(f"{key}.npy") as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except (ValueError, EOFError, OSError, zipfile.BadZipFile) as error:
        raise DatasetError(
            f"{path}: {key} holds less data than its header declares, or is damaged "
            f"({_one_line(error)}); write the file again with {_SAVEZ_HINT}."
        ) from None


def _check_pairs(path: Path, shapes: dict[str, tuple[int, ...]]) -> None:
    """Rows against labels, and training rows against test rows, from the headers alone."""
    for split in ("train", "test"):
        x_key, y_key = f"x_{split}", f"y_{split}"
        if x_key in shapes and y_key in shapes and shapes[x_key][0] != shapes[y_key][0]:
            raise DatasetError(
                f"{path}: {x_key} has {shapes[x_key][0]} rows but {y_key} has "
                f"{shapes[y_key][0]} labels; store one label per row."
            )
    if "x_train" in shapes and "x_test" in shapes:
        train, test = shapes["x_train"][1:], shapes["x_test"][1:]
        # flat rows of h * w pixels pass for images (n, h, w), as in MLPClassifier
        if math.prod(train) != math.prod(test) or (len(train) == len(test) == 2 and train != test):
            raise DatasetError(
                f"{path}: x_train rows have {_row(train)} but x_test rows have "
                f"{_row(test)}; both must have the same shape per row."
            )


def _row(shape: tuple[int, ...]) -> str:
    return f"{shape[0]} features" if len(shape) == 1 else f"images of {shape[0]}x{shape[1]} pixels"


def _check_header(
    path: Path, key: str, shape: tuple[int, ...], dtype: np.dtype, targets: str
) -> None:
    if dtype.hasobject:
        raise DatasetError(
            f"{path}: {key} is an object array, which would need pickle to load and is "
            "refused; store plain numbers (or strings for labels), e.g. "
            f"{key}=np.asarray({key}, dtype=np.float32)."
        )
    if key.startswith("x_"):
        if len(shape) not in (2, 3):
            raise DatasetError(
                f"{path}: {key} has shape {shape}; store one row per sample, "
                "(n_samples, n_features) or images (n_samples, height, width)."
            )
        if shape[0] < 1 or math.prod(shape[1:]) < 1:
            raise DatasetError(f"{path}: {key} has shape {shape}, which holds no data.")
        if dtype.kind not in "biuf":
            raise DatasetError(
                f"{path}: {key} has dtype {dtype}; store numbers: uint8 images or "
                "float32 features (x.astype(np.float32))."
            )
    elif targets == "values":
        if len(shape) not in (1, 2) or dtype.kind not in "biuf":
            raise DatasetError(
                f"{path}: {key} has shape {shape} and dtype {dtype}; store regression targets "
                f"as numbers of shape (n_samples,) or (n_samples, n_outputs), e.g. "
                f"{key}=np.asarray({key}, dtype=np.float64)."
            )
    else:
        if len(shape) != 1:
            raise DatasetError(
                f"{path}: {key} has shape {shape}; store one label per sample, shape "
                f"(n_samples,), e.g. {key}.ravel()."
            )
        if dtype.kind not in "biufUS":
            raise DatasetError(
                f"{path}: {key} has dtype {dtype}; store class labels as integers or "
                "strings."
            )
    memory = physical_memory()
    if memory is not None and math.prod(shape) * dtype.itemsize > memory:
        raise DatasetError(
            f"{path}: {key} declares shape {shape} of {dtype}, "
            f"{math.prod(shape) * dtype.itemsize / 1e9:,.0f} GB, more than this machine's "
            f"{memory / 1e9:,.0f} GB of memory; store a smaller data set."
        )




def _check_values(path: Path, key: str, array: np.ndarray, targets: str) -> None:
    if array.dtype.kind != "f":
        return
    finite = np.isfinite(array)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        what = "NaN" if np.isnan(array[index]) else "infinity"
        raise DatasetError(
            f"{path}: {key} contains {what} (first at index {index}); remove or impute "
            "those values."
        )
    if key.startswith("y_") and targets == "labels" and (array != np.round(array)).any():
        raise DatasetError(
            f"{path}: {key} holds fractional values; store class labels as integers or "
            f"strings ({key}.astype(int) if they are whole numbers)."
        )
