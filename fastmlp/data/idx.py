"""Read IDX files, the array format of MNIST and its look-alikes.

An IDX file is a 4-byte magic number (two zero bytes, an element type code, the
number of dimensions), one big-endian uint32 per dimension, then the elements in
C order, big-endian. The publishers ship them gzip-compressed; both forms are read.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from typing import BinaryIO

import numpy as np

from fastmlp.exceptions import DatasetError

__all__ = ["parse_idx", "read_idx"]

_GZIP_MAGIC = b"\x1f\x8b"

# Multi-byte types stay big-endian as stored: byte-swapping would copy the payload,
# and numpy computes on big-endian arrays correctly anyway.
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# gzip reports damage as BadGzipFile (an OSError), EOFError or zlib.error.
_GZIP_ERRORS = (OSError, EOFError, zlib.error)

# deflate expands at most 1032:1, so a gzip file of n bytes holds at most this many times n.
_MAX_GZIP_RATIO = 1032
_CHUNK = 1 << 20
# NumPy 1.x arrays have at most 32 dimensions (2.x: 64); no real IDX file comes near.
_MAX_NDIM = 32


def _parse_header(head: bytes | memoryview, source: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """Validate the IDX header at the start of ``head``.

    Returns the element dtype, the shape and the header's length in bytes.
    """
    if len(head) < 4:
        raise DatasetError(f"{source}: not an IDX file: only {len(head)} bytes, no header")
    if head[0] != 0 or head[1] != 0:
        raise DatasetError(
            f"{source}: wrong magic number 0x{bytes(head[:4]).hex()}; "
            "an IDX file starts with two zero bytes"
        )
    code, ndim = head[2], head[3]
    if code not in _DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _DTYPES)
        raise DatasetError(f"{source}: unknown IDX element type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise DatasetError(f"{source}: IDX header declares zero dimensions")
    if ndim > _MAX_NDIM:
        raise DatasetError(
            f"{source}: IDX header declares {ndim} dimensions; at most {_MAX_NDIM} are supported"
        )
    size = 4 + 4 * ndim
    if len(head) < size:
        raise DatasetError(
            f"{source}: truncated IDX header: {ndim} dimensions need {size} bytes, got {len(head)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(head, dtype=">u4", count=ndim, offset=4))
    return _DTYPES[code], shape, size


def _nbytes(dtype: np.dtype, shape: tuple[int, ...]) -> int:
    # Python integers: numpy's product of absurd header dimensions would overflow.
    return dtype.itemsize * math.prod(shape)


def _length_error(source: str, got: str, dtype: np.dtype, shape: tuple[int, ...]) -> DatasetError:
    return DatasetError(
        f"{source}: payload is {got} bytes but the header says shape {shape} of {dtype}, "
        f"which is {_nbytes(dtype, shape)} bytes"
    )


def parse_idx(data: bytes | bytearray | memoryview, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes, gzip-compressed or not, into an array.

    Uncompressed, the result is a view of ``data``, so it is read-only when
    ``data`` is immutable; compressed, it is a new writable array. ``source``
    names the data in error messages.

    Raises
    ------
    DatasetError
        If the gzip stream is damaged or the IDX header or payload length is wrong.
    """
    if bytes(data[:2]) == _GZIP_MAGIC:
        try:
            return _read_gzip(io.BytesIO(data), len(data), source)
        except _GZIP_ERRORS as exc:
            raise DatasetError(f"{source}: corrupt or truncated gzip data ({exc})") from exc
    dtype, shape, offset = _parse_header(memoryview(data), source)
    payload = len(data) - offset
    if payload != _nbytes(dtype, shape):
        raise _length_error(source, str(payload), dtype, shape)
    return np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape)


def _read_header(stream: BinaryIO, source: str) -> tuple[np.dtype, tuple[int, ...], int]:
    head = stream.read(4)
    if len(head) == 4:
        head += stream.read(4 * head[3])
    return _parse_header(head, source)


def _fill(stream: BinaryIO, dtype: np.dtype, shape: tuple[int, ...], source: str) -> np.ndarray:
    """Read the payload straight into a new array: no intermediate bytes, and writable."""
    try:
        out = np.empty(shape, dtype=dtype)
    except (MemoryError, ValueError) as exc:
        raise DatasetError(
            f"{source}: the header says shape {shape} of {dtype} "
            f"({_nbytes(dtype, shape)} bytes), which cannot be allocated ({exc})"
        ) from exc
    view = memoryview(out.reshape(-1).view(np.uint8))
    filled = 0
    while filled < len(view):
        n = stream.readinto(view[filled:])
        if not n:
            raise _length_error(source, f"only {filled}", dtype, shape)
        filled += n
    if stream.read(1):
        raise _length_error(source, f"more than {filled}", dtype, shape)
    return out


def _read_raw(stream: BinaryIO, size: int, source: str) -> np.ndarray:
    dtype, shape, offset = _read_header(stream, source)
    # The file's size is the payload's: check before allocating what the header claims.
    if size - offset != _nbytes(dtype, shape):
        raise _length_error(source, str(size - offset), dtype, shape)
    return _fill(stream, dtype, shape, source)


def _read_gzip(compressed: BinaryIO, size: int, source: str) -> np.ndarray:
    """Read a gzip-compressed IDX stream of ``size`` bytes, checking the header's claim first.

    A gzip file records its uncompressed size modulo 2**32 in its last four bytes
    (ISIZE; of the last member only, when there are several), and deflate
    expands at most 1032:1. A header declaring more than that, or a size the
    trailer contradicts (once confirmed by counting, for multi-member files), is
    refused before anything is allocated.
    """
    compressed.seek(max(size - 4, 0))
    isize = int.from_bytes(compressed.read(4), "little")
    compressed.seek(0)
    with gzip.GzipFile(fileobj=compressed) as stream:
        dtype, shape, offset = _read_header(stream, source)
        total = offset + _nbytes(dtype, shape)
        if total > _MAX_GZIP_RATIO * size:
            raise DatasetError(
                f"{source}: the header says shape {shape} of {dtype} "
                f"({_nbytes(dtype, shape)} bytes), more than a gzip file of {size} bytes "
                "can hold"
            )
        if total % 2**32 == isize:
            return _fill(stream, dtype, shape, source)
        # Several gzip members, or a header that lies: count what the stream holds.
        counted = offset
        while counted <= total and (chunk := stream.read(_CHUNK)):
            counted += len(chunk)
        if counted != total:
            got = f"more than {counted - offset - 1}" if counted > total else str(counted - offset)
            raise _length_error(source, got, dtype, shape)
    compressed.seek(0)
    with gzip.GzipFile(fileobj=compressed) as stream:
        _read_header(stream, source)
        return _fill(stream, dtype, shape, source)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not, into a new writable array.

    The size the header declares is checked against what the file can hold
    before anything is allocated.

    Raises
    ------
    DatasetError
        If the file cannot be read, its gzip stream is damaged, or its IDX header
        or payload length is wrong. The message names the file.
    """
    source = os.fspath(path)
    compressed = False
    try:
        with open(source, "rb") as raw:
            size = os.fstat(raw.fileno()).st_size
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            if compressed:
                return _read_gzip(raw, size, source)
            return _read_raw(raw, size, source)
    except _GZIP_ERRORS as exc:
        problem = "corrupt or truncated gzip data" if compressed else "cannot read file"
        raise DatasetError(f"{source}: {problem} ({exc})") from exc
