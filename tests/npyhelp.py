"""Helpers of the file tests: take a .npz archive apart, write it back with members
changed, and build .npy members with crafted headers."""

import io
import warnings
import zipfile

import numpy as np


def read_members(path):
    """The (name, bytes) of every member of a zip archive, in order."""
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def write_members(path, members, compress=None):
    """A zip archive of exactly ``members``, stored, or compressed as ``compress`` says."""
    compress = compress or {}
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as archive:
        warnings.simplefilter("ignore", UserWarning)  # duplicate names, on purpose
        for name, payload in members:
            archive.writestr(name, payload, compress_type=compress.get(name, zipfile.ZIP_STORED))


def npy_header(shape, dtype="<f8"):
    """A valid .npy header declaring ``shape`` and ``dtype``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


# Header dictionaries that break the parser each in another way.
CRAFTED_HEADERS = [
    b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), '''}",  # TokenError
    b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,)))}",  # SyntaxError
    b"{'descr': 3, 'fortran_order': False, 'shape': (3,), }",  # TypeError
    b"{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }",  # negative size
    b"{'descr': '<f8', 'fortran_order': False, 'shape': [3], }",  # a list, not a tuple
    b"{'descr': '<f8', 'fortran_order': False, }",  # no shape
]


def npy_with_header(text: bytes, payload: bytes = bytes(24)) -> bytes:
    """A .npy file whose header dictionary is ``text``, padded as the format wants."""
    padded = text + b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(padded).to_bytes(2, "little") + padded + payload
