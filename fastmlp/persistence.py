"""The model file format: one ``.npz`` archive, read and written without pickle.

``model.save(path)`` and ``fastmlp.load(path)`` call
[write][fastmlp.persistence.write] and [read][fastmlp.persistence.read] with
the estimator's state (``MLPClassifier._get_state()``) and its restoring
function (``MLPClassifier._from_state``): this module knows the file's keys,
JSON, versions, checks and I/O, and nothing of the estimator.

The file is a plain NumPy ``.npz`` archive of arrays and JSON text, written
uncompressed (``np.savez``) and read with ``allow_pickle=False`` so that
loading a model never runs code from the file. It holds:

- ``format``, ``format_version``: ``"fastmlp-model"`` and an integer, checked
  on load; a file of a newer format is refused with a clear message.
- ``estimator`` (format 3): ``"MLPClassifier"`` or ``"MLPRegressor"``, the
  class ``fastmlp.load`` returns (files of formats 1 and 2 hold classifiers).
- ``params``, ``layer_sizes``: the flat parameter buffer (weights then biases,
  see [Network][fastmlp.network.Network]), shape (n_params,), in the model's
  dtype (float32 or float64); the units per layer, int64.
- ``architecture`` (format 2): JSON of the fitted network's ``activation``,
  ``output_activation`` and ``loss``, as they were at fit. With ``layer_sizes``
  and the dtype of ``params`` it rebuilds the network exactly, whatever
  ``set_params`` changed since (format 1 took them from ``hyperparams``).
- ``hyperparams``: JSON of ``get_params()`` now, without ``callbacks``
  (functions cannot be stored); a ``random_state`` that is a ``RandomState``
  is stored as null.
- ``classes``, ``classes_object`` (classifiers only): ``classes_`` as a numeric, bool or str
  array; object-dtype labels are stored as str or numbers and restored to
  object dtype. Labels that would not come back equal (integers beyond 64
  bits, strings ending in NUL, other types) are refused at save time.
- ``state``: JSON of the fitted attributes ``n_features_in_``, ``n_iter_``,
  ``t_``, ``loss_``, ``loss_curve_``, ``best_loss_``, ``validation_scores_``,
  ``best_validation_score_``, ``feature_names_in_``, ``image_shape_`` and the
  stopping counter.
- ``optimizer_state``, ``optimizer_velocity``, ``optimizer_ms``,
  ``optimizer_vs``: the solver's settings and state (SGD velocity and learning
  rate, Adam moments and step count), so that ``partial_fit`` after loading
  continues exactly.
- ``metadata``: JSON of the free-form dict given to ``save`` (``fastmlp
  train --save`` records the data set and test accuracy).

Reading checks before it reads: only these keys are read (others are
ignored); each must be stored uncompressed, so that no member can expand
beyond the file's own size; its ``.npy`` header must give the dtype, number of
dimensions and, for the arrays, the shape that ``layer_sizes`` implies, and
the member's size must match the header. Only then is the array read. Any
damage is one [ModelFileError][fastmlp.exceptions.ModelFileError] naming the
file.

Saving is atomic: the archive is written to a temporary file in the target's
directory, flushed to disk, then renamed over the target, and the directory
is synced so the rename itself survives a crash.
"""

from __future__ import annotations

import json
import math
import numbers
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from fastmlp.atomic import atomic_write
from fastmlp.exceptions import ModelFileError

FORMAT = "fastmlp-model"
FORMAT_VERSION = 3
ESTIMATORS = ("MLPClassifier", "MLPRegressor")
"""The estimators a file may hold, by class name."""

OPTIMIZER_BUFFERS = ("velocity", "ms", "vs")
"""The optimizer state buffers a file may hold, as ``optimizer_<name>``."""

# Every key the format defines: the dtype kinds and number of dimensions it may have.
_SCHEMA = {
    "format": ("U", 0),
    "format_version": ("iu", 0),
    "estimator": ("U", 0),
    "layer_sizes": ("iu", 1),
    "params": ("f", 1),
    "architecture": ("U", 0),
    "hyperparams": ("U", 0),
    "classes": ("biufUS", 1),
    "classes_object": ("b", 0),
    "state": ("U", 0),
    "metadata": ("U", 0),
    "optimizer_state": ("U", 0),
    **{f"optimizer_{name}": ("f", 1) for name in OPTIMIZER_BUFFERS},
}
_REQUIRED = {
    1: ("format", "format_version", "params", "layer_sizes", "hyperparams", "classes",
        "classes_object", "state", "metadata"),
}
_REQUIRED[2] = (*_REQUIRED[1], "architecture")
_CLASSES = ("classes", "classes_object")  # required of classifiers only, from format 3
_REQUIRED[3] = (*(key for key in _REQUIRED[2] if key not in _CLASSES), "estimator")
_MAX_LAYERS = 1024  # far beyond any trainable depth; bounds the work before params is read
_ARCHITECTURE = ("activation", "output_activation", "loss")

Model = TypeVar("Model")


class _Damaged(Exception):
    """A violation of the format's layout, reported as truncated or corrupt."""


def write(path, state: dict, metadata: dict | None = None) -> None:
    """Write a model's ``state`` to ``path`` (an ``.npz`` archive), atomically.

    Everything is encoded, and the class labels checked to come back equal,
    before the file is opened; on any error an existing file at ``path`` is
    left as it was, and no temporary file remains.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its directory must exist.
    state : dict
        ``estimator`` (a name of ``ESTIMATORS``), ``hyperparams`` (dict),
        ``architecture`` (dict), ``layer_sizes`` (ints), ``params`` (flat
        float array), ``classes`` (array, or None for a regressor),
        ``attributes`` (dict of fitted attributes) and ``optimizer`` (the
        optimizer's ``state()`` or None).
    metadata : dict, optional
        JSON-serializable values stored with the model.

    Raises
    ------
    ValueError
        Class labels or values that cannot be stored without pickle.
    OSError
        The file cannot be written.
    """
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "estimator": np.array(state["estimator"]),
        "params": state["params"],
        "layer_sizes": np.array(state["layer_sizes"], dtype=np.int64),
        "architecture": np.array(_dumps(state["architecture"], "architecture")),
        "hyperparams": np.array(_dumps(state["hyperparams"], "hyper-parameters")),
        "state": np.array(_dumps(state["attributes"], "fitted attributes")),
        "metadata": np.array(_dumps(metadata or {}, "metadata")),
    }
    if state["classes"] is not None:
        classes, classes_object = _encode_classes(state["classes"])
        arrays.update(classes=classes, classes_object=np.array(classes_object))
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

    The file is read with ``allow_pickle=False``, after the checks described
    above. Any ``ValueError``, ``TypeError`` or ``KeyError`` from ``restore``
    (a state it refuses) becomes a ``ModelFileError`` naming the file.

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
            state, metadata = _read(archive, path.stat().st_size)
    except ModelFileError as error:
        raise ModelFileError(f"{path} {error}") from None
    except (_Damaged, OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile,
            RecursionError, UnicodeError, OverflowError) as error:
        # np.load and zipfile raise the others for truncated or damaged files
        detail = str(error) if isinstance(error, _Damaged) else f"{type(error).__name__}: {error}"
        raise ModelFileError(
            f"{path} is not a readable fastmlp model file; it may be truncated or corrupt "
            f"({_one_line(detail)})."
        ) from None
    try:
        return restore(state), metadata
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        raise ModelFileError(
            f"{path} holds an inconsistent fastmlp model ({_one_line(str(error))})."
        ) from None


def _read(archive, file_size: int) -> tuple[dict, dict]:
    """The state and metadata in an open archive; ModelFileError or _Damaged if not."""
    members = {}
    for info in archive.zip.infolist():
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key in _SCHEMA:
            members[key] = info

    layer_sizes = None

    def load(key: str, shape: tuple | None = None, dtype: np.dtype | None = None):
        return _array(archive, members[key], key, file_size, shape, dtype, layer_sizes)

    if "format" not in members or str(load("format")) != FORMAT:
        raise ModelFileError("is not a fastmlp model file (no fastmlp header).")
    if "format_version" not in members:
        raise ModelFileError("is incomplete: missing ['format_version'].")
    version = int(load("format_version"))
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"was written by a newer fastmlp (model format {version}; this version reads "
            f"format {FORMAT_VERSION} and older). Upgrade fastmlp."
        )
    if version < 1:
        raise _Damaged(f"model format {version} does not exist")
    estimator = str(load("estimator")) if version >= 3 and "estimator" in members else (
        "MLPClassifier")
    if estimator not in ESTIMATORS:
        raise ModelFileError(f"holds an estimator {estimator[:40]!r}, not one of {ESTIMATORS}.")
    required = _REQUIRED[version] + (_CLASSES if estimator == "MLPClassifier" else ())
    missing = [key for key in dict.fromkeys(required) if key not in members]
    if missing:
        raise ModelFileError(f"is incomplete: missing {missing}.")
    sizes = load("layer_sizes")
    if not 2 <= sizes.size <= _MAX_LAYERS or (sizes < 1).any():
        raise _Damaged(f"layer_sizes {sizes.tolist()[:8]} are not 2 to {_MAX_LAYERS} sizes >= 1")
    layer_sizes = tuple(int(n) for n in sizes.tolist())
    n_params = sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
    params = load("params", (n_params,))
    if params.dtype not in (np.float32, np.float64):
        raise _Damaged(f"params have dtype {params.dtype}, not float32 or float64")
    classes = None
    if estimator == "MLPClassifier":
        classes = load("classes", (layer_sizes[-1],))
        if bool(load("classes_object")):
            classes = np.array(classes.tolist(), dtype=object)
    hyperparams = _loads(load("hyperparams"), "hyper-parameters")
    if version >= 2:
        architecture = _loads(load("architecture"), "architecture")
    else:  # format 1 took the network's activations from the hyper-parameters
        architecture = {name: hyperparams.get(name) for name in _ARCHITECTURE}
    optimizer = None
    if "optimizer_state" in members:
        optimizer = _loads(load("optimizer_state"), "optimizer state")
        for name in OPTIMIZER_BUFFERS:
            if f"optimizer_{name}" in members:
                optimizer[name] = load(f"optimizer_{name}", (n_params,), params.dtype)
    state = {
        "estimator": estimator,
        "hyperparams": hyperparams,
        "architecture": architecture,
        "layer_sizes": layer_sizes,
        "params": params,
        "classes": classes,
        "attributes": _loads(load("state"), "fitted attributes"),
        "optimizer": optimizer,
    }
    return state, _loads(load("metadata"), "metadata")


def _array(archive, info: zipfile.ZipInfo, key: str, file_size: int, shape, dtype, layers):
    """Member ``key`` as an array, once its header and size are known to be safe to read."""
    if info.compress_type != zipfile.ZIP_STORED:
        raise _Damaged(f"{key} is compressed; fastmlp writes model files uncompressed")
    if info.file_size != info.compress_size or info.file_size > file_size:
        raise _Damaged(f"{key} declares {info.file_size:,} bytes in a {file_size:,}-byte file")
    with archive.zip.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            found, fortran, found_dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            found, fortran, found_dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise _Damaged(f"{key} has an .npy header of version {version}")
        header_size = member.tell()
    kinds, ndim = _SCHEMA[key]
    if found_dtype.kind not in kinds or found_dtype.hasobject or len(found) != ndim:
        raise _Damaged(f"{key} holds {found_dtype} of shape {found}")
    if shape is not None and found != shape:
        raise ModelFileError(f"holds {key} of shape {found}, which do not fit layers {layers}.")
    if dtype is not None and found_dtype != dtype:
        raise _Damaged(f"{key} has dtype {found_dtype}, not {dtype}")
    if fortran or header_size + math.prod(found) * found_dtype.itemsize != info.file_size:
        raise _Damaged(f"{key}: its header does not match its {info.file_size:,} bytes")
    return archive[key]


def _encode_classes(classes: np.ndarray) -> tuple[np.ndarray, bool]:
    """classes_ as an array np.load reads without pickle, and whether it was object dtype.

    Refuses labels that would not come back equal from the file.
    """
    if classes.dtype != object:
        return classes, False
    labels = classes.tolist()
    if all(isinstance(label, str) for label in labels):
        encoded = np.array(labels, dtype=str)
    elif all(isinstance(label, numbers.Real) for label in labels):
        encoded = np.array(labels)
    else:
        kinds = sorted({type(label).__name__ for label in labels})
        raise ValueError(
            f"Cannot save class labels of types {kinds}: a model file stores labels as "
            "numbers or strings only. Re-fit with y converted, e.g. y.astype(str)."
        )
    if encoded.dtype.kind not in "biufU" or encoded.tolist() != labels:
        changed = [a for a, b in zip(labels, encoded.tolist(), strict=True) if a != b]
        raise ValueError(
            f"Cannot save class labels {(changed or labels)[:3]!r}: they would not load back "
            "equal (integers beyond 64 bits, numbers mixed with such integers, or strings "
            "ending in NUL). Re-fit with y converted, e.g. y.astype(str)."
        )
    return encoded, True


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
    if isinstance(value, np.ndarray | tuple):
        return value.tolist() if isinstance(value, np.ndarray) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _loads(array: np.ndarray, what: str) -> dict:
    try:
        value = json.loads(str(array))
    except (json.JSONDecodeError, RecursionError) as error:
        raise ModelFileError(f"holds {what} that are not valid JSON ({error}).") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"holds {what} that are not a JSON object.")
    return value


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300].rstrip(".")
