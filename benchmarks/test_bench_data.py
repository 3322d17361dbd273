"""Data: a warm ``load_mnist()`` (all four arrays from the cache's parsed .npy files)."""

from __future__ import annotations

from fastmlp import load_mnist


def test_load_mnist_warm(benchmark, mnist_cache):
    load_mnist()  # makes sure the parsed .npy files exist: what follows is a warm load
    benchmark.group = "data"
    benchmark.extra_info.update(suite="data", system="fastmlp", n_samples=70000)
    (x_train, y_train), (x_test, y_test) = benchmark(load_mnist)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert len(y_train) == 60000 and len(y_test) == 10000
