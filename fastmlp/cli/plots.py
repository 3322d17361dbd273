"""The figures of ``train --plot`` and ``sweep --plot``, written with matplotlib's Agg
backend through a Figure (not pyplot: no GUI backend and no global state touched)."""

import os

from fastmlp.cli.common import reason
from fastmlp.exceptions import CommandError

LOSS_NAMES = {"log_loss": "log loss (cross-entropy)", "squared_error": "squared error"}


def plot_curves(path: str, losses: list[float], scores: list[float], title: str, loss: str,
                task: str = "classification") -> None:
    """Training loss and the test score per epoch (accuracy, or R² for a regressor),
    side by side."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.4), dpi=150, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=11)
    left, right = figure.subplots(1, 2)
    left.plot(range(1, len(losses) + 1), losses, marker="o")
    left.set(xlabel="epoch", ylabel=f"training {LOSS_NAMES.get(loss, loss)}",
             title="training loss")
    if task == "classification":
        shown, label, name = [100 * a for a in scores], "test accuracy (%)", "test accuracy"
    else:
        shown, label, name = scores, "test R²", "test R²"
    right.plot(range(1, len(scores) + 1), shown, marker="o", color="tab:green")
    right.set(xlabel="epoch", ylabel=label, title=name)
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    _write(figure, path)


def plot_sweep(path: str, results, names: list[str], dataset: str, value_text) -> None:
    """Validation accuracy against each swept parameter, one panel each."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    succeeded = [result for result in results if result.ok]
    figure = Figure(figsize=(4 * len(names), 3.5), layout="constrained")
    FigureCanvasAgg(figure)
    panels = figure.subplots(1, len(names), squeeze=False)[0]
    for axes, name in zip(panels, names, strict=True):
        # each distinct value at its own position, in grid order; every point at its value
        labels = list(dict.fromkeys(value_text(result.params[name]) for result in results))
        position = {label: i for i, label in enumerate(labels)}
        xs = [position[value_text(result.params[name])] for result in succeeded]
        ys = [result.validation_accuracy for result in succeeded]
        axes.scatter(xs, ys, alpha=0.6, label="points")
        best_per_value = {}
        for x, accuracy in zip(xs, ys, strict=True):
            best_per_value[x] = max(accuracy, best_per_value.get(x, accuracy))
        if best_per_value:
            axes.plot(*zip(*sorted(best_per_value.items()), strict=True), color="tab:green",
                      label="best at this value")
        axes.set_xticks(range(len(labels)), labels)
        axes.set(xlabel=name, ylabel="validation accuracy", title=f"{dataset}: {name}")
        axes.grid(alpha=0.3)
    panels[0].legend(loc="lower right")
    _write(figure, path)


def _write(figure, path: str) -> None:
    from fastmlp.atomic import atomic_write

    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    try:
        with atomic_write(path) as file:  # a full disk keeps the previous plot whole
            figure.savefig(file, format=fmt)
    except OSError as error:
        raise CommandError(
            f"--plot {path}: the plot could not be written ({reason(error)})."
        ) from None
