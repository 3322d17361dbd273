"""The one .npy header reader (fastmlp.data.npyfile): any damage is one clear error."""

import io

import pytest
from npyhelp import CRAFTED_HEADERS, npy_with_header

import fastmlp
from fastmlp.data import npyfile
from fastmlp.exceptions import DamagedFileError


@pytest.mark.parametrize("text", CRAFTED_HEADERS)
def test_any_damaged_header_is_one_damaged_file_error(text):
    with pytest.raises(DamagedFileError):
        npyfile.read_header(io.BytesIO(npy_with_header(text)))


def test_the_package_has_one_npy_header_reader():
    import pathlib

    package = pathlib.Path(fastmlp.__file__).parent
    readers = [path.name for path in package.rglob("*.py")
               if "read_array_header" in path.read_text() or "read_magic" in path.read_text()]
    assert readers == ["npyfile.py"]
