"""
# Which digits get confused

Train the default preset for 3 epochs, then count the test images of each
true digit (rows) by predicted digit (columns).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from fastmlp import MLPClassifier, load_mnist
from fastmlp.exceptions import ConvergenceWarning
from fastmlp.metrics import confusion_matrix
from fastmlp.presets import PRESETS

warnings.simplefilter("ignore", ConvergenceWarning)  # 3 epochs on purpose

(x_train, y_train), (x_test, y_test) = load_mnist()
model = MLPClassifier(**{**PRESETS["default"], "max_iter": 3},
                      random_state=0)
model.fit(x_train, y_train)
predicted = model.predict(x_test)
labels, counts = confusion_matrix(y_test, predicted)
print(f"test accuracy {100 * np.mean(predicted == y_test):.2f} %")

# %%
# The most frequent mistakes:
n = len(labels)
mistakes = [(counts[i, j], labels[i], labels[j])
            for i in range(n) for j in range(n) if i != j]
for count, true, guess in sorted(mistakes, reverse=True)[:5]:
    print(f"{count:3d} images of a {true} predicted as {guess}")

# %%
# The matrix, with the diagonal (correct predictions) left out of the
# colour scale so that the mistakes stand out:
off_diagonal = np.where(np.eye(n, dtype=bool), 0, counts)
fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
image = ax.imshow(off_diagonal, cmap="Reds")
for i in range(n):
    for j in range(n):
        ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=7,
                color="tab:blue" if i == j else "black")
ax.set(xticks=range(n), yticks=range(n), xlabel="predicted digit",
       ylabel="true digit",
       title="MNIST test set, default preset, 3 epochs")
fig.colorbar(image, ax=ax, label="images (off the diagonal)")
plt.show()
