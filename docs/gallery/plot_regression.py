"""
# Regression on the diabetes data, against scikit-learn

Fit fastmlp's `MLPRegressor` and scikit-learn's on scikit-learn's diabetes
data (it ships with scikit-learn: no download), with the same parameters, and
compare their fit times and test R². The first fastmlp fit of a session also
loads its compiled kernels from the on-disk cache, so it is run once before
timing.
"""

import time

import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

from fastmlp import MLPRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
params = dict(hidden_layer_sizes=(64,), learning_rate_init=0.01, max_iter=300,
              random_state=0)
MLPRegressor(**dict(params, max_iter=1)).fit(X_train, y_train)  # load the kernels

results = {}
for name, kind in [("fastmlp", MLPRegressor), ("scikit-learn", SkMLPRegressor)]:
    model = kind(**params)
    started = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - started
    results[name] = (model, seconds, model.score(X_test, y_test))
    print(f"{name:12} {model.n_iter_} epochs in {seconds:.3f} s, test R² "
          f"{results[name][2]:.3f}")

# %%
# Predicted against true disease progression on the test patients:
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True, layout="constrained")
for ax, (name, (model, seconds, r2)) in zip(axes, results.items(), strict=True):
    ax.scatter(y_test, model.predict(X_test), s=12)
    ax.plot([y.min(), y.max()], [y.min(), y.max()], color="grey", linewidth=1)
    ax.set(xlabel="true", title=f"{name}: R² {r2:.2f}, {seconds:.2f} s")
axes[0].set(ylabel="predicted")
plt.show()
