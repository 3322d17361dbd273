"""Save a fitted MLPClassifier to one ``.npz`` file and load it back.

Use ``model.save(path)`` and ``fastmlp.load(path)``; the functions below are
what they call. The file is a plain NumPy ``.npz`` archive of arrays and JSON
text, read with ``allow_pickle=False`` so that loading a model never runs code
from the file. It holds:

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
- ``metadata``: JSON of the free-form dict given to [save][fastmlp.persistence.save]
  (``fastmlp train --save`` records the data set and test accuracy).

Saving is atomic: the archive is written to a temporary file in the target's
directory, flushed to disk, then renamed over the target, and the directory
is synced so the rename itself survives a crash.
"""

from __future__ import annotations

import json
import numbers
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fastmlp.atomic import atomic_write
from fastmlp.exceptions import ModelFileError

if TYPE_CHECKING:
    from fastmlp.estimator import MLPClassifier

FORMAT = "fastmlp-model"
FORMAT_VERSION = 1

_STATE_ATTRIBUTES = (
    "n_features_in_", "n_iter_", "t_", "loss_", "loss_curve_", "best_loss_",
    "validation_scores_", "best_validation_score_", "_no_improvement_count",
)
_REQUIRED = ("format", "format_version", "params", "layer_sizes", "hyperparams", "classes",
             "classes_object", "state", "metadata")


def save(model: MLPClassifier, path, metadata: dict | None = None) -> None:
    """Write fitted ``model`` to ``path`` (an ``.npz`` archive), atomically.

    On any error an existing file at ``path`` is left as it was, and no
    temporary file remains.

    Parameters
    ----------
    model : MLPClassifier
        A fitted model.
    path : str or os.PathLike
        Target file; its directory must exist.
    metadata : dict, optional
        JSON-serializable values stored with the model.

    Raises
    ------
    NotFittedError
        ``model`` is not fitted.
    ValueError
        Class labels or metadata that cannot be stored without pickle.
    OSError
        The file cannot be written.
    """
    arrays = _to_arrays(model, metadata)
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def load(path) -> MLPClassifier:
    """Read a model written by [MLPClassifier.save][fastmlp.estimator.MLPClassifier.save].

    Available as ``fastmlp.load``. The file is read with ``allow_pickle=False``.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    MLPClassifier
        The fitted model, with its optimizer state (``callbacks`` is None).

    Raises
    ------
    ModelFileError
        A ``ValueError`` naming the file: it is corrupt, truncated, not a
        fastmlp model, inconsistent or of a newer format.
    FileNotFoundError
        ``path`` does not exist.

    Examples
    --------
    >>> import fastmlp
    >>> (x_train, y_train), (x_test, y_test) = fastmlp.load_mnist()
    >>> model = fastmlp.MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0)
    >>> model.fit(x_train[:2_000], y_train[:2_000]).save("digits.npz")
    >>> restored = fastmlp.load("digits.npz")
    >>> restored
    MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0)
    >>> bool((restored.predict(x_test) == model.predict(x_test)).all())
    True
    """
    return load_with_metadata(path)[0]


def load_with_metadata(path) -> tuple[MLPClassifier, dict]:
    """[load][fastmlp.persistence.load], also returning the metadata given at save time.

    Returns
    -------
    model : MLPClassifier
        As from [load][fastmlp.persistence.load].
    metadata : dict
        The ``metadata`` dict passed to ``save`` (empty if none was).
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
        return _from_arrays(contents)
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None
    except (ValueError, TypeError, KeyError) as error:
        raise ModelFileError(
            f"{path} holds an inconsistent fastmlp model ({type(error).__name__}: {error})."
        ) from error


# -- encoding ----------------------------------------------------------------------------


def _to_arrays(model: MLPClassifier, metadata: dict | None) -> dict[str, np.ndarray]:
    network = model._fitted_network()  # NotFittedError when unfitted
    params = model.get_params(deep=False)
    params.pop("callbacks", None)
    if isinstance(params.get("random_state"), np.random.RandomState | np.random.Generator):
        params["random_state"] = None
    classes, classes_object = _encode_classes(model.classes_)
    state = {name: getattr(model, name) for name in _STATE_ATTRIBUTES if hasattr(model, name)}
    names = getattr(model, "feature_names_in_", None)
    state["feature_names_in_"] = None if names is None else [str(n) for n in names]
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "params": network.params,
        "layer_sizes": np.array(network.layer_sizes, dtype=np.int64),
        "hyperparams": np.array(_dumps(params, "hyper-parameters")),
        "classes": classes,
        "classes_object": np.array(classes_object),
        "state": np.array(_dumps(state, "fitted attributes")),
        "metadata": np.array(_dumps(metadata or {}, "metadata")),
    }
    optimizer = model.__dict__.get("_optimizer")
    if optimizer is not None:
        arrays["optimizer_state"] = np.array(_dumps(_optimizer_scalars(optimizer), "optimizer"))
        for name in ("velocity", "ms", "vs"):
            if hasattr(optimizer, name):
                arrays[f"optimizer_{name}"] = getattr(optimizer, name)
    return arrays


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


def _optimizer_scalars(optimizer) -> dict:
    kind = "adam" if hasattr(optimizer, "ms") else "sgd"
    scalars = {"kind": kind, "learning_rate": optimizer.learning_rate}
    if kind == "adam":
        scalars["t"] = optimizer.t
    return scalars


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


# -- decoding ----------------------------------------------------------------------------


def _from_arrays(contents: dict[str, np.ndarray]) -> tuple[MLPClassifier, dict]:
    from fastmlp.estimator import MLPClassifier
    from fastmlp.network import Network

    hyperparams = _loads(contents["hyperparams"], "hyper-parameters")
    if isinstance(hyperparams.get("hidden_layer_sizes"), list):
        hyperparams["hidden_layer_sizes"] = tuple(hyperparams["hidden_layer_sizes"])
    unknown = set(hyperparams) - set(MLPClassifier._get_param_names())
    if unknown:
        raise ModelFileError(f"unknown hyper-parameters {sorted(unknown)}; upgrade fastmlp.")
    model = MLPClassifier(**hyperparams)
    model._validate_params()

    classes = contents["classes"]
    if bool(contents["classes_object"]):
        classes = np.array(classes.tolist(), dtype=object)
    layer_sizes = tuple(int(n) for n in contents["layer_sizes"])
    params = contents["params"]
    if params.dtype not in (np.float32, np.float64) or params.ndim != 1:
        raise ModelFileError(f"parameters have dtype {params.dtype}, shape {params.shape}.")
    network = Network(
        layer_sizes, model.activation, model.output_activation, model.loss, params.dtype
    )
    if params.shape != network.params.shape or layer_sizes[-1] != len(classes):
        raise ModelFileError(
            f"{params.size} parameters and {len(classes)} classes do not fit layers "
            f"{layer_sizes}."
        )
    network.params[:] = params

    state = _loads(contents["state"], "fitted attributes")
    names = state.pop("feature_names_in_", None)
    model.__dict__.update(state)
    if "loss_curve_" in state:
        model.loss_curve_ = [float(v) for v in state["loss_curve_"]]
    if names is not None:
        model.feature_names_in_ = np.array(names, dtype=object)
    model.classes_ = classes
    model._network = network
    if model.early_stopping and model.validation_scores_ is not None:
        model._best_params = network.params.copy()
    if model.n_features_in_ != layer_sizes[0]:
        raise ModelFileError(
            f"n_features_in_={model.n_features_in_} does not match layers {layer_sizes}."
        )
    if "optimizer_state" in contents:
        model._optimizer = _restore_optimizer(model, contents)
    return model, _loads(contents["metadata"], "metadata")


def _restore_optimizer(model: MLPClassifier, contents: dict[str, np.ndarray]):
    scalars = _loads(contents["optimizer_state"], "optimizer")
    optimizer = model._make_optimizer()
    if scalars["kind"] != model.solver:
        return optimizer  # state of another solver: start afresh, as fit() would
    optimizer.learning_rate = float(scalars["learning_rate"])
    if "t" in scalars:
        optimizer.t = int(scalars["t"])
    for name in ("velocity", "ms", "vs"):
        if hasattr(optimizer, name):
            stored = contents[f"optimizer_{name}"]
            if stored.shape != getattr(optimizer, name).shape:
                raise ModelFileError(f"optimizer state {name} has shape {stored.shape}.")
            getattr(optimizer, name)[:] = stored
    return optimizer


def _loads(array: np.ndarray, what: str) -> dict:
    try:
        value = json.loads(str(array))
    except json.JSONDecodeError as error:
        raise ModelFileError(f"its {what} are not valid JSON ({error}).") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"its {what} are not a JSON object.")
    return value
