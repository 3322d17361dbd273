"""
# Fashion-MNIST

The same 28×28 format as MNIST, with ten kinds of clothing instead of
digits, and harder: the default preset's recipe reaches a lower accuracy
here than on MNIST.
"""

import matplotlib.pyplot as plt
import numpy as np

from fastmlp import MLPClassifier, load_fashion_mnist
from fastmlp.presets import PRESETS

NAMES = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal",
         "shirt", "sneaker", "bag", "ankle boot"]

(x_train, y_train), (x_test, y_test) = load_fashion_mnist()
model = MLPClassifier(**PRESETS["default"], random_state=0)
model.fit(x_train, y_train)  # the preset's 8 epochs
predicted = model.predict(x_test)
accuracy = np.mean(predicted == y_test)
print(f"test accuracy {100 * accuracy:.2f} % after {model.n_iter_} epochs")
for label, name in enumerate(NAMES):
    rows = y_test == label
    print(f"{name:>12}: {100 * np.mean(predicted[rows] == label):5.1f} %")

# %%
# The first test images with their predicted class (red: wrong):
fig, axes = plt.subplots(3, 8, figsize=(9, 4), layout="constrained")
for i, ax in enumerate(axes.flat):
    ax.imshow(x_test[i], cmap="gray_r")
    ax.set_title(NAMES[predicted[i]], fontsize=8,
                 color="black" if predicted[i] == y_test[i] else "red")
    ax.axis("off")
plt.show()
