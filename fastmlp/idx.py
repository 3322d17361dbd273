"""Read IDX files, the array format of MNIST and its look-alikes.

An IDX file is a 4-byte magic number (two zero bytes, an element type code, the
number of dimensions), one big-endian uint32 per dimension, then the elements in
C order, big-endian. The publishers ship them gzip-compressed; both forms are read.
"""

from __future__ import annotations

import gzip
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
    size = 4 + 4 * ndim
    if len(head) < size:
        raise DatasetError(
            f"{source}: truncated IDX header: {ndim} dimensions need {size} bytes, got {len(head)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(head, dtype=">u4", count=ndim, offset=4))
    return _DTYPES[code], shape, size


def _length_error(source: str, got: str, dtype: np.dtype, shape: tuple[int, ...]) -> DatasetError:
    need = dtype.itemsize * int(np.prod(shape))
    return DatasetError(
        f"{source}: payload is {got} bytes but the header says shape {shape} of {dtype}, "
        f"which is {need} bytes"
    )


def parse_idx(data: bytes | bytearray | memoryview, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes, gzip-compressed or not, into an array.

    The result is a view of ``data`` (or of its decompressed copy), so it is
    read-only when ``data`` is immutable. ``source`` names the data in error messages.

    Raises
    ------
    DatasetError
        If the gzip stream is damaged or the IDX header or payload length is wrong.
    """
    if bytes(data[:2]) == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except _GZIP_ERRORS as exc:
            raise DatasetError(f"{source}: corrupt or truncated gzip data ({exc})") from exc
    dtype, shape, offset = _parse_header(memoryview(data), source)
    payload = len(data) - offset
    count = int(np.prod(shape))
    if payload != count * dtype.itemsize:
        raise _length_error(source, str(payload), dtype, shape)
    return np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape)


def _read_stream(stream: BinaryIO, source: str) -> np.ndarray:
    head = stream.read(4)
    if len(head) == 4:
        head += stream.read(4 * head[3])
    dtype, shape, _ = _parse_header(head, source)
    # Read straight into the result: no intermediate bytes object, and the array
    # is writable like the ones keras hands out.
    out = np.empty(shape, dtype=dtype)
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


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not, into a new writable array.

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
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            if not compressed:
                return _read_stream(raw, source)
            with gzip.GzipFile(fileobj=raw) as stream:
                return _read_stream(stream, source)
    except _GZIP_ERRORS as exc:
        problem = "corrupt or truncated gzip data" if compressed else "cannot read file"
        raise DatasetError(f"{source}: {problem} ({exc})") from exc
