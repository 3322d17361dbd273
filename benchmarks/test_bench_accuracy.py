"""Time to accuracy: seconds of training until the default model reaches 97.5 %
MNIST test accuracy.

The default model is the one ``fastmlp train`` trains (``fastmlp.presets.PRESETS
["default"]``: 784-128-10 ReLU, softmax, log-loss, Adam 2e-3, batch 128,
float32) with ``random_state=0``, trained on the 60,000 uint8 training images.
A callback scores the 10,000 test images after every epoch and stops the fit
once the target is reached, at most ``MAX_EPOCHS`` epochs.

The timed figure is the whole call, test scoring included; ``extra_info``
holds ``train_seconds`` (the sum of the epochs' own training time as the
estimator reports it, scoring excluded; median over rounds), ``epochs`` and
``accuracy``. ``reached`` is False if the cap came first. A smoke run trains
one epoch on a slice and does not check the target.
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np
from benchutil import ROUNDS, SMOKE_SAMPLES, record

from fastmlp import MLPClassifier
from fastmlp.presets import PRESETS

TARGET = 0.975
MAX_EPOCHS = 15


class _Reached(Exception):
    pass


def test_time_to_accuracy(benchmark, mnist, warm_numba, smoke):
    (x_train, y_train), (x_test, y_test) = mnist
    if smoke:
        x_train, y_train = x_train[:SMOKE_SAMPLES], y_train[:SMOKE_SAMPLES]
        x_test, y_test = x_test[:SMOKE_SAMPLES], y_test[:SMOKE_SAMPLES]
    max_epochs = 1 if smoke else MAX_EPOCHS
    runs: list[dict] = []

    def train() -> dict:
        run = {"train_seconds": 0.0, "epochs": 0, "accuracy": 0.0, "reached": False}

        def check(model, info):
            run["train_seconds"] += info["seconds"]
            run["epochs"] = info["epoch"]
            run["accuracy"] = float(model.score(x_test, y_test))
            if run["accuracy"] >= TARGET:
                run["reached"] = True
                raise _Reached

        model = MLPClassifier(
            **dict(PRESETS["default"], max_iter=max_epochs),
            random_state=0, callbacks=[check],
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning when the cap comes first
                model.fit(x_train, y_train)
        except _Reached:
            pass
        runs.append(run)
        return run

    benchmark.group = "time to accuracy"
    record(
        benchmark, "time_to_accuracy", "fastmlp", network="784-128-10", batch_size=128,
        dtype="float32", target=TARGET, max_epochs=max_epochs, n_samples=len(x_train),
        **warm_numba,
    )
    benchmark.pedantic(train, rounds=max(1, ROUNDS // 2 + 1), warmup_rounds=0)
    benchmark.extra_info.update(
        train_seconds=statistics.median(r["train_seconds"] for r in runs),
        epochs=int(np.median([r["epochs"] for r in runs])),
        accuracy=runs[-1]["accuracy"],
        reached=all(r["reached"] for r in runs),
        runs=runs,
    )
    assert runs[-1]["epochs"] >= 1
