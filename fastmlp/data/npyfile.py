"""One reader of ``.npy`` headers and ``.npz`` members, for every file fastmlp reads.

Model files ([persistence][fastmlp.persistence]), data files
([npzdata][fastmlp.data.npzdata]) and the parsed data-set cache (``fastmlp.data.cache``)
are NumPy files. Before any array is allocated their headers are read here,
and a damaged header of any kind (NumPy raises ``ValueError``,
``SyntaxError``, ``TypeError``, ``tokenize.TokenError`` and others for them)
is one [DamagedFileError][fastmlp.exceptions.DamagedFileError]; the callers
turn it into their own error naming the file, or (the cache) parse the raw
file again. An archive's members must be ``<name>.npy`` for an expected name,
each once, with a declared size that matches the header and that the
member's stored bytes can hold. Files are opened with
[open_regular][fastmlp.data.npyfile.open_regular], which never blocks on a FIFO.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from fastmlp.atomic import file_kind
from fastmlp.exceptions import DamagedFileError, SpecialFileError

__all__ = ["Header", "member_header", "members", "open_regular", "read_header"]

MAX_DEFLATE_RATIO = 1032
"""deflate expands at most 1032:1, so a member of n compressed bytes holds at most this × n."""

_VERSIONS = {(1, 0): np.lib.format.read_array_header_1_0,
             (2, 0): np.lib.format.read_array_header_2_0}


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for reading in binary, refusing anything but a regular file.

    The file is opened without blocking and checked on the open descriptor,
    so a FIFO never hangs the reader, and nothing can be swapped in between.

    Raises
    ------
    SpecialFileError
        ``path`` is a folder, FIFO, device or socket.
    OSError
        It cannot be opened (``FileNotFoundError`` if it does not exist).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise SpecialFileError(f"{os.fspath(path)} is {file_kind(mode)}, not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@dataclass(frozen=True)
class Header:
    """What a ``.npy`` header declares, and where the data starts."""

    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    offset: int

    @property
    def nbytes(self) -> int:
        """Bytes of data the header declares (a Python int: never overflows)."""
        return math.prod(self.shape) * self.dtype.itemsize


def read_header(stream: BinaryIO) -> Header:
    """The header at the start of ``stream``, which is left just after it.

    Raises
    ------
    DamagedFileError
        Any header NumPy cannot read, of an unknown version, or declaring a
        negative dimension. ``OSError`` from the stream itself passes through.
    """
    start = stream.tell()
    try:
        version = np.lib.format.read_magic(stream)
        if version not in _VERSIONS:
            raise DamagedFileError(f".npy header of unknown version {version}")
        shape, fortran_order, dtype = _VERSIONS[version](stream)
    except (DamagedFileError, OSError):
        raise
    except Exception as error:  # noqa: BLE001 - NumPy's parser raises many kinds for damage
        text = " ".join(str(error).split())[:160]
        raise DamagedFileError(f"unreadable .npy header ({type(error).__name__}: {text})") from None
    shape = tuple(shape)
    if any(n < 0 for n in shape):
        raise DamagedFileError(f".npy header declares shape {shape}")
    return Header(shape, bool(fortran_order), np.dtype(dtype), stream.tell() - start)


def members(archive: zipfile.ZipFile, allowed: Collection[str]) -> dict[str, zipfile.ZipInfo]:
    """The members of an ``.npz`` archive by name, checked to be ``<name>.npy``, each once.

    NumPy would serve a bare ``params`` before ``params.npy`` and the last of
    duplicate members, so each is refused rather than guessed at.

    Raises
    ------
    DamagedFileError
        A member that is not ``<name>.npy`` for a name in ``allowed``, or one
        found twice.
    """
    found: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename
        key = name.removesuffix(".npy")
        if not name.endswith(".npy") or key not in allowed:
            expected = ", ".join(f"{k}.npy" for k in sorted(allowed))
            raise DamagedFileError(f"unexpected member {name!r} (expected only {expected})")
        if key in found:
            raise DamagedFileError(f"the member {name!r} is stored twice")
        found[key] = info
    return found


def member_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int) -> Header:
    """The ``.npy`` header of one member, checked against the member's sizes.

    The header's size must be the member's, which must fit what its stored
    bytes can expand to (all of them for an uncompressed member, 1032 times
    for a deflated one), within an archive of ``file_size`` bytes. So no array
    read after this check can allocate more than its file can hold. Object
    arrays (pickled data, no fixed size) pass here: callers refuse them unread.

    Raises
    ------
    DamagedFileError
        A damaged header, a compression method other than deflate, or sizes
        that disagree.
    """
    key = info.filename
    if info.compress_type == zipfile.ZIP_STORED:
        limit = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        limit = info.compress_size * MAX_DEFLATE_RATIO
    else:
        raise DamagedFileError(
            f"{key} is compressed with method {info.compress_type}, not deflate"
        )
    if info.compress_size > file_size or info.file_size > limit:
        raise DamagedFileError(
            f"{key} declares {info.file_size:,} bytes from {info.compress_size:,} stored bytes "
            f"in a {file_size:,}-byte file"
        )
    with archive.open(info) as stream:
        try:
            header = read_header(stream)
        except DamagedFileError as error:
            raise DamagedFileError(f"{key}: {error}") from None
    # pickled (object) data has no size to check; every caller refuses it unread
    if not header.dtype.hasobject and header.offset + header.nbytes != info.file_size:
        raise DamagedFileError(
            f"{key}: its header declares shape {header.shape} of {header.dtype} "
            f"({header.nbytes:,} bytes), but the member holds {info.file_size:,} bytes"
        )
    return header
