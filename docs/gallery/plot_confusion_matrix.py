"""
# Which digits get confused

Train the default preset for 3 epochs, then count the test images of each
true digit (rows) by predicted digit (columns).
"""

import matplotlib.pyplot as plt
import numpy as np

from fastmlp import MLPClassifier, load_mnist
from fastmlp.cli import confusion_matrix
from fastmlp.presets import PRESETS

(x_train, y_train), (x_test, y_test) = load_mnist()
model = MLPClassifier(**{**PRESETS["default"], "max_iter": 3, "random_state": 0})
model.fit(x_train, y_train)
predicted = model.predict(x_test)
labels, counts = confusion_matrix(y_test, predicted)
print(f"test accuracy {100 * np.mean(predicted == y_test):.2f} %")

# %%
# The most frequent mistakes:
mistakes = [(counts[i, j], labels[i], labels[j])
            for i in range(len(labels)) for j in range(len(labels)) if i != j]
for count, true, guess in sorted(mistakes, reverse=True)[:5]:
    print(f"{count:3d} images of a {true} predicted as {guess}")

# %%
# The matrix, with the diagonal (correct predictions) left out of the colour
# scale so that the mistakes stand out:
off_diagonal = np.where(np.eye(len(labels), dtype=bool), 0, counts)
fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
image = ax.imshow(off_diagonal, cmap="Reds")
for i in range(len(labels)):
    for j in range(len(labels)):
        ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=7,
                color="black" if i != j else "tab:blue")
ax.set(xticks=range(len(labels)), yticks=range(len(labels)),
       xlabel="predicted digit", ylabel="true digit",
       title="MNIST test set, default preset, 3 epochs")
fig.colorbar(image, ax=ax, label="images (off the diagonal)")
plt.show()
