"""fastmlp: train multi-layer perceptrons fast on a CPU.

The estimator and its Numba kernels load on first use, so ``import fastmlp``
stays cheap for the data and command-line helpers.
"""

from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "MLPClassifier": "fastmlp.estimator",
    "MLPRegressor": "fastmlp.regressor",
    "DivergenceError": "fastmlp.exceptions",
    "load_dataset": "fastmlp.datasets",
    "load_mnist": "fastmlp.datasets",
    "load_fashion_mnist": "fastmlp.datasets",
    "load_kmnist": "fastmlp.datasets",
    "DatasetError": "fastmlp.exceptions",
    "ModelFileError": "fastmlp.exceptions",
    "ConcurrentFitError": "fastmlp.exceptions",
    "load": "fastmlp.fitted",
    "load_with_metadata": "fastmlp.fitted",
    "sweep": "fastmlp.sweeps",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fastmlp' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
