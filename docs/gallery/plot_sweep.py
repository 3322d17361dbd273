"""
# A hyper-parameter sweep

Sweep the hidden width and the learning rate of the default preset with
[`fastmlp.sweep`][fastmlp.sweeps.sweep], one epoch per point, on an embedded
Dask cluster (one single-threaded worker process per core; needs the `dask`
extra: `python -m pip install -e ".[dask]"`). Each point is scored on a validation
split (the last 10,000 training images); the test set is used once, for the
best point only.
"""

import matplotlib.pyplot as plt

import fastmlp
from fastmlp.presets import PRESETS
from fastmlp.sweeps import best, ranked

# The workers are new processes that import this file: the guard keeps them from
# starting sweeps of their own.
if __name__ == "__main__":
    (x_train, y_train), (x_test, y_test) = fastmlp.load_mnist()
    grid = {"hidden_layer_sizes": [(32,), (64,), (128,)],
            "learning_rate_init": [1e-3, 3e-3]}
    params = dict(PRESETS["default"], max_iter=1, random_state=0)
    results = fastmlp.sweep(grid, x_train, y_train, params=params)
    for result in ranked(results):  # best validation accuracy first
        width = result.params["hidden_layer_sizes"][0]
        rate = result.params["learning_rate_init"]
        print(f"hidden {width:4d}  lr {rate:.0e}  "
              f"validation {100 * result.validation_accuracy:.2f} %")
    winner = best(results)
    print(f"best point {winner.params}: test accuracy "
          f"{100 * winner.model.score(x_test, y_test):.2f} %")

# %%
# Validation accuracy against the width, one line per learning rate:
if __name__ == "__main__":
    fig, axes = plt.subplots(figsize=(6, 3.5), layout="constrained")
    for rate in grid["learning_rate_init"]:
        points = [r for r in results if r.params["learning_rate_init"] == rate]
        axes.plot([r.params["hidden_layer_sizes"][0] for r in points],
                  [100 * r.validation_accuracy for r in points],
                  marker="o", label=f"learning rate {rate:.0e}")
    axes.set(xscale="log", xlabel="hidden units", ylabel="validation accuracy (%)",
             title="default preset, 1 epoch per point")
    axes.set_xticks([32, 64, 128], labels=["32", "64", "128"])
    axes.minorticks_off()
    axes.grid(alpha=0.3)
    axes.legend()
    plt.show()
