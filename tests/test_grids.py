"""Sweep grids too large to run are refused from their description: at once, in little memory,
with the limit named (fastmlp.grids)."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from fastmlp import cli, grids, sweeps
from fastmlp.cli import sweep as cli_sweep

BASE = dict(hidden_layer_sizes=(16,), max_iter=1, random_state=0)
FAST = 2.0  # seconds a refusal may take (it is milliseconds; room for a loaded CI machine)
SMALL = 20 * 2**20  # bytes a refusal may allocate (it is kilobytes)


def _measured(call) -> tuple[BaseException, float, int]:
    """The error ``call`` raises, the seconds it took and the peak bytes it allocated."""
    cli_sweep._estimator_defaults()  # loads the estimator, once per process, outside the measure
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ValueError) as caught:
            call()
        return caught.value, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_billion_point_grid_is_refused_by_its_count():
    grid = {"alpha": [i * 1e-5 for i in range(1000)], "tol": [i * 1e-5 for i in range(1000)],
            "momentum": [i / 1000 for i in range(1000)]}
    error, seconds, peak = _measured(lambda: sweeps.check_points(grid, BASE))
    assert str(error).startswith(
        "the grid has 1,000,000,000 points, more than the 10,000 a sweep runs at most "
        "(fastmlp.grids.MAX_POINTS)")
    assert seconds < FAST and peak < SMALL
    # a union of grids counts the sum of its parts
    assert grids.count_points([{"alpha": [0, 1]}, {"tol": [1, 2, 3], "momentum": [0, 1]}]) == 8


def test_a_layer_too_large_for_memory_is_refused_before_any_network_exists():
    error, seconds, peak = _measured(lambda: sweeps.check_points(
        {"hidden_layer_sizes": [(16,), (30_000_000,)]}, BASE, n_features=784, n_classes=10))
    message = str(error)
    assert message.startswith("hidden_layer_sizes=(30000000,) makes a 784-30000000-10 network")
    assert "GB, more than this machine's" in message and "GB of memory" in message
    assert seconds < FAST and peak < SMALL


def test_the_fitted_models_of_all_points_must_fit_in_memory_together():
    grid = {"hidden_layer_sizes": [(4000, 4000)], "random_state": list(range(5000))}
    error, seconds, peak = _measured(lambda: sweeps.check_points(grid, BASE))
    assert str(error).startswith("the grid's 5,000 fitted models would need about ")
    assert "more than this machine's" in str(error)
    assert seconds < FAST and peak < SMALL


def test_invalid_layer_sizes_are_left_to_the_points_own_check():
    with pytest.raises(ValueError, match=r"^grid point hidden_layer_sizes=\(0,\): .*must be"):
        sweeps.check_points({"hidden_layer_sizes": [(0,)]}, BASE)


def test_cli_counts_the_grid_before_parsing_a_value(monkeypatch, capsys):
    pytest.importorskip("distributed", reason="fastmlp sweep needs dask[distributed]")
    def no_work(*args, **kwargs):
        raise AssertionError("a value was parsed or data loaded before the grid was counted")

    monkeypatch.setattr(cli_sweep, "parse_value", no_work)
    monkeypatch.setattr("fastmlp.datasets.load_dataset", no_work)
    values = ",".join(str(i) for i in range(1000))
    argv = ["sweep", "--grid", f"alpha={values}", "--grid", f"tol={values}",
            "--grid", f"momentum={values}"]
    started = time.perf_counter()
    assert cli.main(argv) == 1
    assert time.perf_counter() - started < 5  # the first call also imports the estimator
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "1,000,000,000 points" in err and "MAX_POINTS" in err


def test_cli_refuses_a_huge_layer_at_once_and_names_it(monkeypatch, capsys):
    pytest.importorskip("distributed", reason="fastmlp sweep needs dask[distributed]")
    def no_work(*args, **kwargs):
        raise AssertionError("the data was loaded before the grid was checked")

    monkeypatch.setattr("fastmlp.datasets.load_dataset", no_work)
    cli_sweep._estimator_defaults()
    started = time.perf_counter()
    assert cli.main(["sweep", "--grid", "hidden_layer_sizes=30000000"]) == 1
    assert time.perf_counter() - started < FAST
    err = capsys.readouterr().err
    assert err.startswith("fastmlp: error: hidden_layer_sizes=(30000000,) makes a "
                          "784-30000000-10 network")


def test_the_memory_check_uses_the_float_type_fit_would_pick(monkeypatch):
    """uint8 data trains float32 models with dtype=None: half the bytes of float64."""
    from fastmlp import memory

    monkeypatch.setattr(memory, "physical_memory", lambda: 10**9)
    grid = {"hidden_layer_sizes": [(40_000,)]}  # 31.8 million parameters, Adam: 7 copies
    assert grids.check_grid(grid, {}, 784, 10, data_dtype="uint8") == 1  # 0.9 GB
    with pytest.raises(ValueError, match=r"needs about 1\.8 GB, more than this machine's 1\.0"):
        grids.check_grid(grid, {}, 784, 10, data_dtype="float64")
    with pytest.raises(ValueError, match=r"needs about 1\.8 GB"):
        grids.check_grid(grid, {"dtype": "float64"}, 784, 10, data_dtype="uint8")
    with pytest.raises(ValueError, match=r"needs about 1\.8 GB"):  # unknown data: the larger
        grids.check_grid(grid, {}, 784, 10)
