"""A missing optional dependency gives one error naming the extra that installs it."""

import sys

import numpy as np
import pytest

import fastmlp
from fastmlp import cli, extras, sweeps
from fastmlp.exceptions import MissingDependencyError


@pytest.fixture
def without_dask(monkeypatch):
    """Make ``import dask`` and ``import distributed`` fail as if they were not installed."""
    for name in list(sys.modules):
        if name.split(".")[0] in ("dask", "distributed"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "distributed", None)


def test_sweep_without_dask_names_the_extra(without_dask):
    X = np.zeros((12, 3))
    y = np.arange(12) % 2
    with pytest.raises(MissingDependencyError) as caught:
        fastmlp.sweep({"hidden_layer_sizes": [(4,)]}, X, y)
    message = str(caught.value)
    assert "fastmlp.sweep" in message and "dask[distributed]" in message
    assert 'python -m pip install -e ".[dask]"' in message
    assert isinstance(caught.value, ImportError)  # `except ImportError` guards still work


def test_local_client_without_dask_names_the_extra(without_dask):
    with pytest.raises(MissingDependencyError, match=r'-e "\.\[dask\]"'), \
            sweeps.local_client(workers=1):
        pass


def test_cli_sweep_without_dask_is_one_line(without_dask, monkeypatch, capsys):
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    assert cli.main(["sweep", "--grid", "hidden_layer_sizes=8"]) == cli.EXIT_ERROR
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastmlp: error:")
    assert 'pip install -e ".[dask]"' in lines[0] and "fastmlp[" not in lines[0]


def test_require_returns_an_installed_module():
    pytest.importorskip("matplotlib")
    assert extras.require("matplotlib", "--plot") is sys.modules["matplotlib"]


def test_a_broken_install_shows_its_own_error(monkeypatch):
    """Only the module itself missing is an extra to install; an error inside it is not."""

    def broken(name, *args, **kwargs):
        raise ModuleNotFoundError("No module named 'tornado'", name="tornado")

    monkeypatch.setattr("importlib.import_module", broken)
    with pytest.raises(ModuleNotFoundError) as caught:
        extras.require("distributed", "fastmlp.sweep")
    assert not isinstance(caught.value, MissingDependencyError)
