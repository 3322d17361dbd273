"""
# The teaching notebook, reproduced exactly

fastmlp's `notebook` preset is the teaching notebook's model and training:
784-16-10 logistic units, squared error, plain SGD with step 0.01, one
sample at a time in file order, float64. Given the same initial weights, it
computes the same numbers as the notebook's own NumPy loop (kept as
`fastmlp.baseline`), only faster.
"""

# %%
# ## The same first epoch, two engines
#
# Both start from the notebook's initial weights; the notebook stores each
# weight matrix as (out, in), `MLPClassifier` as (in, out).
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

from fastmlp import MLPClassifier, baseline, load_mnist
from fastmlp.exceptions import ConvergenceWarning
from fastmlp.presets import PRESETS

# a fixed epoch budget, as in the notebook: "not converged" is expected
warnings.simplefilter("ignore", ConvergenceWarning)

(x_train, y_train), (x_test, y_test) = load_mnist()
x, y = x_train[:3000], y_train[:3000]
weights = baseline.init_weights(seed=0)

started = time.perf_counter()
naive, costs = baseline.train(x, y, epochs=1, weights=weights)
naive_seconds = time.perf_counter() - started

model = MLPClassifier(**{**PRESETS["notebook"], "max_iter": 1})
model.fit(
    x, y,
    coef_init=[weights.input_weights.T, weights.output_weights.T],
    intercept_init=[weights.hidden_biases, weights.output_biases],
)

difference = max(
    np.abs(model.coefs_[0] - naive.input_weights.T).max(),
    np.abs(model.coefs_[1] - naive.output_weights.T).max(),
)
print(f"largest weight difference after one epoch: {difference:.1e}")
print(f"mean cost: notebook {costs[0]:.6f}, fastmlp {model.loss_:.6f}")
print(f"notebook loop: {len(x) / naive_seconds:,.0f} samples/s "
      "on the machine that built this page")

# %%
# ## The notebook's whole run
#
# Five epochs over the 60,000 training images, as the notebook trains.
accuracy = []


def score(model, info):
    accuracy.append(model.score(x_test, y_test))


model = MLPClassifier(**PRESETS["notebook"], random_state=0,
                      callbacks=[score])
model.fit(x_train, y_train)
for epoch, loss in enumerate(model.loss_curve_, 1):
    print(f"epoch {epoch}: mean cost {loss:.4f}, "
          f"test accuracy {100 * accuracy[epoch - 1]:.2f} %")

# %%
# The test accuracy per epoch:
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.plot(range(1, len(accuracy) + 1), [100 * a for a in accuracy],
        marker="o")
ax.set(xlabel="epoch", ylabel="test accuracy (%)",
       title="notebook preset: 784-16-10 logistic, SGD 0.01, batch 1")
ax.xaxis.get_major_locator().set_params(integer=True)
ax.grid(alpha=0.3)
plt.show()
