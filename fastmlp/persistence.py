"""The model file format: one ``.npz`` archive, read and written without pickle.

``model.save(path)`` and ``fastmlp.load(path)`` call
[write][fastmlp.persistence.write] and [read][fastmlp.persistence.read] with
the estimator's state (``MLPClassifier._get_state()``) and its restoring
function (``MLPClassifier._from_state``): this module knows the file's keys,
JSON, versions, checks and I/O, and nothing of the estimator.

The file is a plain NumPy ``.npz`` archive of arrays and JSON text, read with
``allow_pickle=False`` so that loading a model never runs code from the file.
It holds:

- ``format``, ``format_version``: ``"fastmlp-model"`` and an integer, checked
  on load; a file of a newer format is refused with a clear message.
- ``params``, ``layer_sizes``: the flat parameter buffer (weights then biases,
  see [Network][fastmlp.network.Network]), shape (n_params,), in the model's
  dtype (float32 or float64); the units per layer, int64.
- ``hyperparams``: JSON of ``get_params()`` without ``callbacks`` (functions
  cannot be stored); a ``random_state`` that is a ``RandomState`` is stored as
  null.
- ``classes``, ``classes_object``: ``classes_`` as a numeric, bool or str
  array; object-dtype labels are stored as str or numbers and restored to
  object dtype. Other labels are refused at save time.
- ``state``: JSON of the fitted attributes ``n_features_in_``, ``n_iter_``,
  ``t_``, ``loss_``, ``loss_curve_``, ``best_loss_``, ``validation_scores_``,
  ``best_validation_score_``, ``feature_names_in_`` and the stopping counter.
- ``optimizer_*``: the solver's state (SGD velocity and learning rate, Adam
  moments and step count), so that ``partial_fit`` after loading continues
  exactly.
- ``metadata``: JSON of the free-form dict given to ``save`` (``fastmlp
  train --save`` records the data set and test accuracy).

Saving is atomic: the archive is written to a temporary file in the target's
directory, flushed to disk, then renamed over the target, and the directory
is synced so the rename itself survives a crash.
"""

from __future__ import annotations

import json
import numbers
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from fastmlp.atomic import atomic_write
from fastmlp.exceptions import ModelFileError

FORMAT = "fastmlp-model"
FORMAT_VERSION = 1

OPTIMIZER_BUFFERS = ("velocity", "ms", "vs")
"""The optimizer state buffers a file may hold, as ``optimizer_<name>``."""
_REQUIRED = ("format", "format_version", "params", "layer_sizes", "hyperparams", "classes",
             "classes_object", "state", "metadata")

Model = TypeVar("Model")


def write(path, state: dict, metadata: dict | None = None) -> None:
    """Write a model's ``state`` to ``path`` (an ``.npz`` archive), atomically.

    Everything is encoded before the file is opened; on any error an existing
    file at ``path`` is left as it was, and no temporary file remains.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its directory must exist.
    state : dict
        ``hyperparams`` (dict), ``layer_sizes`` (ints), ``params`` (flat float
        array), ``classes`` (array), ``attributes`` (dict of fitted
        attributes) and ``optimizer`` (the optimizer's ``state()`` or None).
    metadata : dict, optional
        JSON-serializable values stored with the model.

    Raises
    ------
    ValueError
        Class labels or values that cannot be stored without pickle.
    OSError
        The file cannot be written.
    """
    classes, classes_object = _encode_classes(state["classes"])
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "params": state["params"],
        "layer_sizes": np.array(state["layer_sizes"], dtype=np.int64),
        "hyperparams": np.array(_dumps(state["hyperparams"], "hyper-parameters")),
        "classes": classes,
        "classes_object": np.array(classes_object),
        "state": np.array(_dumps(state["attributes"], "fitted attributes")),
        "metadata": np.array(_dumps(metadata or {}, "metadata")),
    }
    optimizer = state.get("optimizer")
    if optimizer is not None:
        scalars = {k: v for k, v in optimizer.items() if not isinstance(v, np.ndarray)}
        arrays["optimizer_state"] = np.array(_dumps(scalars, "optimizer"))
        for name in OPTIMIZER_BUFFERS:
            if name in optimizer:
                arrays[f"optimizer_{name}"] = optimizer[name]
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def read(path, restore: Callable[[dict], Model]) -> tuple[Model, dict]:
    """Read a model file and hand its state to ``restore``.

    The file is read with ``allow_pickle=False``. Any ``ValueError``,
    ``TypeError`` or ``KeyError`` from ``restore`` (a state it refuses) becomes
    a ``ModelFileError`` naming the file.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    restore : callable
        Builds the model from a state dict shaped like
        [write][fastmlp.persistence.write]'s.

    Returns
    -------
    model
        What ``restore`` returned.
    metadata : dict
        The ``metadata`` given at save time (empty if none was).

    Raises
    ------
    ModelFileError
        The file is damaged, foreign, refused by ``restore`` or of a newer
        format; the message names the file.
    FileNotFoundError
        No file at ``path``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Model file {path} does not exist.")
    with open(path, "rb") as file:
        magic = file.read(4)
    if magic[:2] != b"PK":  # every zip archive, hence every .npz, starts so
        raise ModelFileError(
            f"{path} is not a fastmlp model file: it is not an .npz archive"
            + (" (the file is empty)." if not magic else ".")
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in _REQUIRED if key not in archive.files]
            if "format" in missing or str(archive["format"]) != FORMAT:
                raise ModelFileError(f"{path} is not a fastmlp model file (no fastmlp header).")
            version = int(archive["format_version"])
            if version > FORMAT_VERSION:
                raise ModelFileError(
                    f"{path} was written by a newer fastmlp (model format {version}; this "
                    f"version reads format {FORMAT_VERSION} and older). Upgrade fastmlp."
                )
            if missing:
                raise ModelFileError(f"{path} is incomplete: missing {missing}.")
            contents = {key: archive[key] for key in archive.files}
    except ModelFileError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        # np.load and zipfile raise these for truncated or damaged files
        raise ModelFileError(
            f"{path} is not a readable fastmlp model file; it may be truncated or corrupt "
            f"({type(error).__name__}: {error})."
        ) from error
    try:
        return restore(_decode(contents)), _loads(contents["metadata"], "metadata")
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None
    except (ValueError, TypeError, KeyError) as error:
        raise ModelFileError(
            f"{path} holds an inconsistent fastmlp model ({type(error).__name__}: {error})."
        ) from error


def _decode(contents: dict[str, np.ndarray]) -> dict:
    classes = contents["classes"]
    if bool(contents["classes_object"]):
        classes = np.array(classes.tolist(), dtype=object)
    params = contents["params"]
    if params.dtype not in (np.float32, np.float64) or params.ndim != 1:
        raise ModelFileError(f"parameters have dtype {params.dtype}, shape {params.shape}.")
    optimizer = None
    if "optimizer_state" in contents:
        optimizer = _loads(contents["optimizer_state"], "optimizer")
        for name in OPTIMIZER_BUFFERS:
            if f"optimizer_{name}" in contents:
                optimizer[name] = contents[f"optimizer_{name}"]
    return {
        "hyperparams": _loads(contents["hyperparams"], "hyper-parameters"),
        "layer_sizes": tuple(int(n) for n in contents["layer_sizes"]),
        "params": params,
        "classes": classes,
        "attributes": _loads(contents["state"], "fitted attributes"),
        "optimizer": optimizer,
    }


def _encode_classes(classes: np.ndarray) -> tuple[np.ndarray, bool]:
    """classes_ as an array np.load reads without pickle, and whether it was object dtype."""
    if classes.dtype != object:
        return classes, False
    labels = classes.tolist()
    if all(isinstance(label, str) for label in labels):
        return np.array(labels, dtype=str), True
    if all(isinstance(label, numbers.Real) for label in labels):
        return np.array(labels), True
    kinds = sorted({type(label).__name__ for label in labels})
    raise ValueError(
        f"Cannot save class labels of types {kinds}: a model file stores labels as numbers "
        "or strings only. Re-fit with y converted, e.g. y.astype(str)."
    )


def _dumps(value, what: str) -> str:
    try:
        return json.dumps(value, default=_json_default)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Cannot save the model's {what} as JSON: {error}") from None


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _loads(array: np.ndarray, what: str) -> dict:
    try:
        value = json.loads(str(array))
    except json.JSONDecodeError as error:
        raise ModelFileError(f"its {what} are not valid JSON ({error}).") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"its {what} are not a JSON object.")
    return value
