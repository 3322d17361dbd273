import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from fastmlp.data.idx import parse_idx, read_idx
from fastmlp.exceptions import DatasetError

CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.astype(CODES[code]).tobytes()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_round_trip_every_type_code(tmp_path: Path, code: int, compress: bool) -> None:
    expected = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(CODES[code])
    data = idx_bytes(expected, code)
    if compress:
        data = gzip.compress(data)
    from_bytes = parse_idx(data)
    from_file = read_idx(write(tmp_path / "a.idx", data))
    for array in (from_bytes, from_file):
        assert array.dtype == np.dtype(CODES[code])
        assert array.shape == (2, 3, 4)
        np.testing.assert_array_equal(array, expected)


def test_parse_idx_is_a_view_and_read_idx_is_writable(tmp_path: Path) -> None:
    data = idx_bytes(np.arange(10, dtype=np.uint8), 0x08)
    view = parse_idx(data)
    assert not view.flags.owndata
    assert np.shares_memory(view, np.frombuffer(data, np.uint8))
    array = read_idx(write(tmp_path / "labels.gz", gzip.compress(data)))
    assert array.flags.writeable
    array[0] = 1


def test_real_mnist_file(data_dir: Path) -> None:
    labels = read_idx(data_dir / "mnist" / "train-labels-idx1-ubyte.gz")
    assert labels.shape == (60000,)
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


GOOD = idx_bytes(np.zeros((3, 4), np.uint8), 0x08)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x00\x00", "no header"),
        (b"\x01" + GOOD[1:], "wrong magic number 0x01000802"),
        (GOOD[:2] + b"\x0a" + GOOD[3:], "unknown IDX element type code 0x0A"),
        (GOOD[:3] + b"\x00", "zero dimensions"),
        (GOOD[:7], "truncated IDX header"),
        (GOOD[:-1], "payload is 11 bytes"),
        (GOOD + b"\x00", "payload is 13 bytes"),
        (gzip.compress(GOOD)[:-10], "corrupt or truncated gzip data"),
        (gzip.compress(GOOD)[:-8] + b"\x00" * 8, "corrupt or truncated gzip data"),
    ],
    ids=[
        "short",
        "magic",
        "type",
        "ndim",
        "header",
        "payload-short",
        "payload-long",
        "gzip-truncated",
        "gzip-crc",
    ],
)
def test_bad_files_raise_naming_file_and_problem(tmp_path: Path, data: bytes, problem: str) -> None:
    path = write(tmp_path / "bad-idx3-ubyte.gz", data)
    with pytest.raises(DatasetError, match="bad-idx3-ubyte.gz") as info:
        read_idx(path)
    assert problem in str(info.value)
    with pytest.raises(DatasetError, match="my-bytes") as info:
        parse_idx(data, source="my-bytes")
    assert problem in str(info.value)


def header(code: int, *dims: int) -> bytes:
    return struct.pack(">BBBB", 0, 0, code, len(dims)) + struct.pack(f">{len(dims)}I", *dims)


BIG = 2**32 - 1
ABSURD = {
    # (header, payload): what a hostile or broken file may declare
    "3-dims-of-4G": (header(0x08, BIG, BIG, BIG), bytes(64)),  # 8e28 bytes: overflows int64
    "float64-2^62-bytes": (header(0x0E, 2**31, 2**28), bytes(64)),
    "uint8-4G": (header(0x08, BIG), bytes(1000)),
    "int32-60000x28x28-short": (header(0x0C, 60000, 28, 28), bytes(4096)),
    "40-dims": (header(0x08, *[2] * 40), bytes(64)),
    "255-dims": (header(0x08, *[BIG] * 255), bytes(16)),
}


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("case", ABSURD)
def test_absurd_header_dimensions_fail_before_allocating(
    tmp_path: Path, case: str, compress: bool
) -> None:
    head, payload = ABSURD[case]
    data = gzip.compress(head + payload) if compress else head + payload
    path = write(tmp_path / "absurd-idx3-ubyte.gz", data)
    for call, name in ((lambda: read_idx(path), str(path)), (lambda: parse_idx(data, "b"), "b")):
        with pytest.raises(DatasetError) as info:
            call()
        message = str(info.value)
        assert message.startswith(f"{name}: ")
        assert "dimensions" in message or "the header says shape" in message
        assert len(message) < 400


def test_gzip_header_is_checked_against_the_trailer_before_allocating(tmp_path: Path) -> None:
    # A header claiming 10 GB in a small gzip file: refused at once, not after allocating.
    data = gzip.compress(header(0x08, 10_000, 1_000_000) + bytes(100_000))
    with pytest.raises(DatasetError, match="more than a gzip file of .* bytes can hold"):
        read_idx(write(tmp_path / "bomb.gz", data))
    # Honest trailer, header claiming more than the stream holds.
    pixels = np.random.default_rng(0).integers(0, 256, 28 * 28 * 10, dtype=np.uint8)
    data = gzip.compress(header(0x08, 1000, 28, 28) + pixels.tobytes())
    with pytest.raises(DatasetError, match="payload is 7840 bytes but the header says"):
        read_idx(write(tmp_path / "short.gz", data))


def test_multi_member_gzip_and_empty_arrays_still_read(tmp_path: Path) -> None:
    expected = np.arange(6 * 5, dtype=np.uint8).reshape(6, 5)
    data = idx_bytes(expected, 0x08)
    # Two gzip members: the trailer holds the last member's size only.
    two = gzip.compress(data[:17]) + gzip.compress(data[17:])
    np.testing.assert_array_equal(read_idx(write(tmp_path / "two.gz", two)), expected)
    np.testing.assert_array_equal(parse_idx(two), expected)
    empty = header(0x08, 0, 28, 28)
    for blob in (empty, gzip.compress(empty)):
        assert read_idx(write(tmp_path / "empty", blob)).shape == (0, 28, 28)
        assert parse_idx(blob).shape == (0, 28, 28)


def test_payload_error_states_expected_length() -> None:
    with pytest.raises(DatasetError, match=r"shape \(3, 4\) of uint8, which is 12 bytes"):
        parse_idx(GOOD[:-1])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="nope.gz: cannot read file"):
        read_idx(tmp_path / "nope.gz")
