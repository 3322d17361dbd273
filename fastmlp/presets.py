"""Named training recipes: the models ``fastmlp train --preset NAME`` trains."""

PRESETS = {
    # Chosen by docs/scripts/preset_search.py; the search, its results and how to re-run
    # it: docs/design.md, "How the default preset was chosen".
    "default": dict(
        hidden_layer_sizes=(128,), activation="relu", output_activation="softmax",
        loss="log_loss", solver="adam", learning_rate="cosine", learning_rate_init=1e-2,
        alpha=1e-4, batch_size=256, max_iter=4, dtype="float32",
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
``random_state``. ``"default"``: 784-128-10 ReLU, Adam 1e-2 on a cosine
schedule, batch 256, 4 epochs, float32. ``"notebook"``: the teaching notebook's
784-16-10 logistic network with squared error, plain SGD at batch size 1, 5
epochs in file order, float64.
Usable from Python as ``MLPClassifier(**PRESETS["default"])``; ``MLPClassifier()``
itself keeps scikit-learn's defaults.
"""
