"""
# Learning curve of the default preset

Train the default preset (784-128-10 ReLU, Adam on a cosine schedule,
batch 256, float32) on MNIST and score the test set after every epoch with a callback. The
callback runs after the epoch's own timing, so the throughput excludes the
scoring.
"""

import matplotlib.pyplot as plt

from fastmlp import MLPClassifier, load_mnist
from fastmlp.presets import PRESETS

(x_train, y_train), (x_test, y_test) = load_mnist()
history = []


def record(model, info):
    accuracy = model.score(x_test, y_test)
    history.append((info["epoch"], info["loss"], accuracy))


# max_iter is the preset's 4: a fixed budget (the cosine schedule's horizon), not a
# convergence criterion
model = MLPClassifier(**PRESETS["default"], random_state=0,
                      callbacks=[record])
model.fit(x_train, y_train)
for epoch, loss, accuracy in history:
    print(f"epoch {epoch}: training loss {loss:.4f}, "
          f"test accuracy {100 * accuracy:.2f} %")

# %%
# Training loss (log loss) and test accuracy side by side:
epochs = [epoch for epoch, _, _ in history]
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5),
                                  layout="constrained")
left.plot(epochs, [loss for _, loss, _ in history], marker="o")
left.set(xlabel="epoch", ylabel="training log loss", title="training loss")
right.plot(epochs, [100 * acc for _, _, acc in history], marker="o",
           color="tab:green")
right.set(xlabel="epoch", ylabel="test accuracy (%)",
          title="MNIST test accuracy")
for axes in (left, right):
    axes.grid(alpha=0.3)
preset = PRESETS["default"]
fig.suptitle(f"default preset: 784-128-10 ReLU, Adam {preset['learning_rate_init']:g} "
             f"({preset['learning_rate']}), batch {preset['batch_size']}")
plt.show()
