"""Training data from a .npz file (fastmlp.data.npzdata): exactly the expected members,
headers checked before any data is read, and one clear error for any damage."""

import zipfile

import numpy as np
import pytest
from npyhelp import CRAFTED_HEADERS, npy_header, npy_with_header, read_members, write_members

from fastmlp.data.npzdata import load_npz
from fastmlp.exceptions import DatasetError


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda m: m + [("x_train", m[0][1])], "unexpected member 'x_train'"),
        (lambda m: m + [m[1]], "stored twice"),
        (lambda m: m + [("labels.npy", m[1][1])], "unexpected member 'labels.npy'"),
    ],
    ids=["bare", "duplicate", "unknown"],
)
def test_data_file_members_are_exactly_the_expected_ones(tmp_path, damage, message):
    path = tmp_path / "d.npz"
    x, y = np.random.default_rng(0).random((20, 4)), np.arange(20) % 2
    np.savez(path, x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])
    write_members(path, damage(read_members(path)))
    with pytest.raises(DatasetError, match=message) as error:
        load_npz(path)
    assert str(path) in str(error.value)


def test_a_compressed_data_file_cannot_declare_more_than_it_can_hold(tmp_path):
    import tracemalloc

    path = tmp_path / "d.npz"
    x, y = np.zeros((20, 4)), np.arange(20) % 2
    np.savez_compressed(path, x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])
    members = read_members(path)
    # x_train's header claims 2 GB; the member really holds 2 MB of zeros (deflated: 2 KB)
    members[0] = ("x_train.npy", npy_header((250_000, 1000)) + bytes(2 << 20))
    write_members(path, members, {name: zipfile.ZIP_DEFLATED for name, _ in members})
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match="x_train") as error:
            load_npz(path)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert str(path) in str(error.value) and "declares" in str(error.value)
    assert peak < 20 << 20


def test_a_data_header_claiming_more_data_than_stored_names_the_file(tmp_path):
    path = tmp_path / "d.npz"
    x, y = np.zeros((20, 4)), np.arange(20) % 2
    np.savez(path, x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])
    members = read_members(path)
    # a consistent header (20 rows, 20 labels), but half the rows' bytes
    members[0] = ("x_train.npy", npy_header((20, 4)) + x.tobytes()[:320])
    write_members(path, members)
    with pytest.raises(DatasetError, match="x_train") as error:
        load_npz(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("text", CRAFTED_HEADERS)
def test_a_damaged_data_header_is_one_dataset_error(tmp_path, text):
    path = tmp_path / "d.npz"
    x, y = np.zeros((20, 4)), np.arange(20) % 2
    np.savez(path, x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])
    members = [(name, npy_with_header(text) if name == "y_test.npy" else data)
               for name, data in read_members(path)]
    write_members(path, members)
    with pytest.raises(DatasetError, match="y_test") as error:
        load_npz(path)
    assert str(path) in str(error.value)
