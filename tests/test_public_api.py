"""The public import paths of the last release, and its model files, keep working after
the package moved into engine/, data/ and cli/ subpackages."""

import importlib
import subprocess
import sys

import numpy as np
import pytest
from legacy_models import (
    CLASSIFIER,
    CLASSIFIER_PROBA,
    REGRESSOR,
    REGRESSOR_PREDICTIONS,
    array,
    decode,
)

import fastmlp

PUBLIC = [
    ("fastmlp", "MLPClassifier"), ("fastmlp", "MLPRegressor"), ("fastmlp", "load"),
    ("fastmlp", "load_with_metadata"), ("fastmlp", "load_mnist"),
    ("fastmlp", "load_fashion_mnist"), ("fastmlp", "load_kmnist"), ("fastmlp", "load_dataset"),
    ("fastmlp", "sweep"), ("fastmlp", "DatasetError"), ("fastmlp", "DivergenceError"),
    ("fastmlp", "ModelFileError"), ("fastmlp", "ConcurrentFitError"),
    ("fastmlp.presets", "PRESETS"), ("fastmlp.estimator", "MLPClassifier"),
    ("fastmlp.estimator", "load"), ("fastmlp.estimator", "load_with_metadata"),
    ("fastmlp.regressor", "MLPRegressor"), ("fastmlp.datasets", "load_mnist"),
    ("fastmlp.datasets", "load_dataset"), ("fastmlp.datasets", "download"),
    ("fastmlp.datasets", "get_data_home"), ("fastmlp.datasets", "CLASS_NAMES"),
    ("fastmlp.datasets", "DATASETS"), ("fastmlp.sweeps", "sweep"),
    ("fastmlp.sweeps", "local_client"), ("fastmlp.sweeps", "ranked"),
    ("fastmlp.sweeps", "SweepResult"), ("fastmlp.cli", "main"),
    ("fastmlp.cli", "build_parser"), ("fastmlp.exceptions", "NotFittedError"),
    ("fastmlp.base", "BaseEstimator"),
]


@pytest.mark.parametrize(("module", "name"), PUBLIC)
def test_public_import_paths_still_work(module, name):
    assert getattr(importlib.import_module(module), name) is not None


def test_the_package_names_are_the_modules_ones():
    from fastmlp import estimator, fitted, regressor, sweeps

    assert fastmlp.MLPClassifier is estimator.MLPClassifier
    assert fastmlp.MLPRegressor is regressor.MLPRegressor
    assert fastmlp.load is estimator.load is fitted.load
    assert fastmlp.sweep is sweeps.sweep


def test_import_fastmlp_loads_no_numba_scipy_or_engine():
    code = ("import sys, fastmlp, fastmlp.presets; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numba', 'scipy', 'sklearn') or m.startswith('fastmlp.engine')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def _rows() -> np.ndarray:
    return np.random.default_rng(0).random((40, 4))


def test_a_classifier_file_of_the_last_release_loads_and_predicts_as_it_did(tmp_path):
    path = tmp_path / "classifier.npz"
    path.write_bytes(decode(CLASSIFIER))
    model, metadata = fastmlp.load_with_metadata(path)
    assert isinstance(model, fastmlp.MLPClassifier)
    assert metadata == {"written_by": "fastmlp 0.1.0"}
    np.testing.assert_allclose(model.predict_proba(_rows()), array(CLASSIFIER_PROBA),
                               rtol=1e-12, atol=1e-15)
    assert model.n_iter_ == 2 and list(model.classes_) == [0, 1, 2]


def test_a_regressor_file_of_the_last_release_loads_and_predicts_as_it_did(tmp_path):
    path = tmp_path / "regressor.npz"
    path.write_bytes(decode(REGRESSOR))
    model = fastmlp.load(path)
    assert isinstance(model, fastmlp.MLPRegressor)
    np.testing.assert_allclose(model.predict(_rows()), array(REGRESSOR_PREDICTIONS),
                               rtol=1e-12, atol=1e-15)
    assert model.t_ == 80
    model.partial_fit(_rows(), _rows()[:, :2] @ [1.0, -2.0])  # the step count continues
    assert model.t_ == 120
