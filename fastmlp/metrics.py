"""The scores ``fastmlp evaluate`` and ``train`` report: the confusion matrix (counts,
and the counts as aligned text) and the root mean squared error of a regressor.

Scripts need not import scikit-learn for them (``from fastmlp.metrics import
confusion_matrix``).
"""

import numpy as np

__all__ = ["confusion_matrix", "format_confusion_matrix", "root_mean_squared_error"]


def confusion_matrix(y_true, y_pred) -> tuple:
    """Counts of (true, predicted) label pairs.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels of any sortable type.

    Returns
    -------
    labels : ndarray of shape (n_labels,)
        The sorted union of both label sets.
    counts : ndarray of shape (n_labels, n_labels), int64
        ``counts[i, j]``: samples of class ``labels[i]`` predicted as ``labels[j]``.

    Examples
    --------
    >>> labels, counts = confusion_matrix([0, 0, 1], [0, 1, 1])
    >>> labels.tolist(), counts.tolist()
    ([0, 1], [[1, 1], [0, 1]])
    """
    labels = np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
    true_index = np.searchsorted(labels, y_true)
    pred_index = np.searchsorted(labels, y_pred)
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(matrix, (true_index, pred_index), 1)
    return labels, matrix


def format_confusion_matrix(labels, matrix, names=None) -> str:
    """The matrix of [confusion_matrix][fastmlp.metrics.confusion_matrix] as aligned text.

    A header row of labels, then one row per true class. With ``names`` (what
    integer labels stand for, e.g. Fashion-MNIST's "Trouser" for 1) each row
    starts with its label's name; the columns keep the short labels.
    """
    width = max(len(str(matrix.max())), *(len(str(label)) for label in labels)) + 1

    def row_label(label) -> str:
        if names is not None and isinstance(label, (int, np.integer)) and 0 <= label < len(names):
            return f"{label} {names[label]}"
        return str(label)

    row_width = max(width, *(len(row_label(label)) for label in labels))
    header = " " * row_width + " " + "".join(f"{label!s:>{width}}" for label in labels)
    rows = [
        f"{row_label(label):>{row_width}} " + "".join(f"{count:>{width}}" for count in row)
        for label, row in zip(labels, matrix, strict=True)
    ]
    return "\n".join([header, *rows])


def root_mean_squared_error(y_true, y_pred) -> float:
    """The square root of the mean squared error over every sample and output.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets and predictions of the same shape.

    Returns
    -------
    float

    Examples
    --------
    >>> root_mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    1.1547005383792515
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))
