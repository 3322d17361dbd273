"""Bounded fuzzing of model files and parsed-cache headers: every mutation loads
correctly or is refused cleanly; none raises anything else or loads altered content.

The long run (thousands of cases, with timings and peak memory) is
``benchmarks/fuzz_files.py``.
"""

import numpy as np
import pytest
from filefuzz import Tally, fuzz_cache, fuzz_models

import fastmlp

pytestmark = pytest.mark.usefixtures("quiet_convergence")


@pytest.fixture
def model(linear_classes):
    X, y = linear_classes(120, n_features=6)
    return fastmlp.MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)


@pytest.mark.parametrize("seed", [0, 1])
def test_mutated_model_files_load_correctly_or_are_refused(tmp_path, model, seed):
    tally = fuzz_models(model, tmp_path, count=150, seed=seed, tally=Tally())
    assert tally.counts["other"] == 0, tally.examples
    assert tally.counts["altered"] == 0, tally.examples
    assert tally.counts["refused"] > 100  # the mutations did reach the checks
    assert tally.slowest < 5


def test_mutated_cache_headers_are_passed_over_or_load_equal(tmp_path):
    tally = fuzz_cache(tmp_path / "cache", count=600, seed=0, tally=Tally())
    assert tally.counts["other"] == 0, tally.examples
    assert tally.counts["altered"] == 0, tally.examples
    assert tally.counts["refused"] > 300
    assert tally.slowest < 5


def test_mutated_data_files_are_one_dataset_error(tmp_path):
    """`--data` files go through the same member and header reader."""
    from filefuzz import mutate_bytes

    from fastmlp.data.npzdata import load_npz
    from fastmlp.exceptions import DatasetError

    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    x, y = rng.random((20, 4)), np.arange(20) % 2
    np.savez(path, x_train=x, y_train=y, x_test=x[:5], y_test=y[:5])
    data = path.read_bytes()
    other = []
    for _ in range(300):
        path.write_bytes(mutate_bytes(data, rng, []))
        try:
            load_npz(path)
        except DatasetError:
            pass
        except Exception as error:  # noqa: BLE001
            other.append(f"{type(error).__name__}: {error}")
    assert not other, other[:3]
