"""Named training recipes: the models ``fastmlp train --preset NAME`` trains."""

PRESETS = {
    # Chosen by docs/scripts/preset_search.py (batch 128-512 x Adam 1e-3-5e-3, seeds
    # 0-2): 97.5 % MNIST test accuracy first after 5 / 5 / 6 epochs, 97.87 / 98.11 /
    # 97.78 % after 10. Faster rates or larger batches reached 97.5 % no sooner in
    # epochs with a margin, or ended below 97.8 %.
    "default": dict(
        hidden_layer_sizes=(128,), activation="relu", output_activation="softmax",
        loss="log_loss", solver="adam", learning_rate_init=2e-3, alpha=1e-4,
        batch_size=128, max_iter=10, dtype="float32",
    ),
    # The teaching notebook's model and settings, computed exactly.
    "notebook": dict(
        hidden_layer_sizes=(16,), activation="logistic", output_activation="logistic",
        loss="squared_error", solver="sgd", learning_rate_init=0.01, momentum=0.0,
        alpha=0.0, batch_size=1, max_iter=5, shuffle=False, weight_init="normal",
        init_scale=0.01, dtype="float64",
    ),
}
"""Starting configurations of ``fastmlp train --preset NAME``.

Each maps ``MLPClassifier`` keyword arguments to values; the command's flags
(``--hidden``, ``--epochs``, ...) override them and ``--seed`` sets
``random_state``. ``"default"``: 784-128-10 ReLU, Adam, batch 128, 10 epochs,
float32. ``"notebook"``: the teaching notebook's 784-16-10 logistic network
with squared error, plain SGD at batch size 1, 5 epochs in file order, float64.
Usable from Python as ``MLPClassifier(**PRESETS["default"])``; ``MLPClassifier()``
itself keeps scikit-learn's defaults.
"""
