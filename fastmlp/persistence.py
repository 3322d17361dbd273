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
  see [Network][fastmlp.engine.network.Network]), shape (n_params,), in the model's
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

- ``digest`` (since this version): xxh3-128 of every other member's name and
  stored bytes, so a file altered after saving (a flipped byte, members
  swapped or edited) is refused. It guards against damage and stray edits, not
  forgery. Files without one, written by earlier versions, still load.

Reading checks before it reads (through [npyfile][fastmlp.data.npyfile], the one
header reader): the file must be a regular file (a FIFO, folder or device is
refused without being opened in a way that could block); every member must be
``<key>.npy`` for a key above, each once (NumPy would serve a bare ``params``
before ``params.npy``, and the last of duplicates); each must be stored
uncompressed, so that no member can expand beyond the file's own size; every
member's ``.npy`` header must give the dtype, number of dimensions and, for
the arrays, the shape that ``layer_sizes`` implies, and the member's size must
match the header; then the digest is checked. Only then is any array beyond
the small format fields read. Any damage is one
[ModelFileError][fastmlp.exceptions.ModelFileError] naming the file.

Saving first decodes what it is about to write and checks it as loading
would (hyper-parameters, fitted attributes, layers), so a model that would
not load is refused before the target is touched. Saving is atomic (see
[atomic][fastmlp.atomic]): the archive is written to a temporary file in the
target's directory, flushed to disk, then renamed over the target, and the
directory is synced so the rename itself survives a crash. A target that is
not a regular file, a symbolic link included, is refused and left as it was.
"""

from __future__ import annotations

import json
import numbers
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from fastmlp.atomic import atomic_write
from fastmlp.data import npyfile
from fastmlp.data.npyfile import open_regular
from fastmlp.exceptions import DamagedFileError, ModelFileError, SpecialFileError
from fastmlp.parameters import n_parameters

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
    "digest": ("U", 0),
}
DIGEST = "digest"
_ALLOWED = frozenset(_SCHEMA)
_REQUIRED = {
    1: ("format", "format_version", "params", "layer_sizes", "hyperparams", "classes",
        "classes_object", "state", "metadata"),
}
_REQUIRED[2] = (*_REQUIRED[1], "architecture")
_CLASSES = ("classes", "classes_object")  # required of classifiers only, from format 3
_REQUIRED[3] = (*(key for key in _REQUIRED[2] if key not in _CLASSES), "estimator")
_ARCHITECTURE = ("activation", "output_activation", "loss")

Model = TypeVar("Model")


class _Damaged(Exception):
    """A violation of the format's layout, reported as truncated or corrupt."""


def write(path, state: dict, metadata: dict | None = None,
          check: Callable[[dict], object] | None = None) -> None:
    """Write a model's ``state`` to ``path`` (an ``.npz`` archive), atomically.

    Everything is encoded, decoded back as [read][fastmlp.persistence.read]
    would and checked as it would be on load (the layout here, the rest by
    ``check``) before the target is touched: a file that would not load is
    never written, so it never replaces a good one. On any error an existing
    file at ``path`` is left as it was, and no temporary file remains.

    Parameters
    ----------
    path : str or os.PathLike
        Target file; its directory must exist. If it exists it must be a
        regular file: a symbolic link, folder, FIFO, device or socket is
        refused (see [atomic][fastmlp.atomic]).
    state : dict
        ``estimator`` (a name of ``ESTIMATORS``), ``hyperparams`` (dict),
        ``architecture`` (dict), ``layer_sizes`` (ints), ``params`` (flat
        float array), ``classes`` (array, or None for a regressor),
        ``attributes`` (dict of fitted attributes) and ``optimizer`` (the
        optimizer's ``state()`` or None).
    metadata : dict, optional
        JSON-serializable values stored with the model.
    check : callable, optional
        Called with the state as it will load; raises ``ValueError``,
        ``TypeError`` or ``KeyError`` for one that loading would refuse.

    Raises
    ------
    ValueError
        Class labels or values that cannot be stored without pickle, or a
        state that loading would refuse.
    SpecialFileError
        ``path`` exists and is not a regular file.
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
    _check_saveable(arrays, check)
    arrays[DIGEST] = np.array(_digest((key, _npy_bytes(array)) for key, array in arrays.items()))
    with atomic_write(path) as file:
        np.savez(file, **arrays)


def _check_saveable(arrays: dict, check: Callable[[dict], object] | None) -> None:
    """Refuse, with the reason, arrays that ``read`` would refuse."""
    try:
        _check_layers(arrays["layer_sizes"])
        state, _ = _decode(arrays, FORMAT_VERSION)
        if check is not None:
            check(state)
    except (_Damaged, ModelFileError, ValueError, TypeError, KeyError, OverflowError) as error:
        raise ValueError(
            f"Cannot save this model: fastmlp.load would refuse the file "
            f"({_one_line(str(error))}). Fix the parameter named, e.g. with set_params."
        ) from None


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
        The file is damaged, altered since it was saved, foreign, refused by
        ``restore``, of a newer format, or not a regular file (a folder,
        FIFO, device: it is never opened in a way that could block); the
        message names the file.
    FileNotFoundError
        No file at ``path``.
    """
    path = Path(path)
    try:
        file = open_regular(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"Model file {path} does not exist.") from None
    except SpecialFileError as error:
        raise ModelFileError(f"{error}; name a model file written by save.") from None
    with file:
        try:
            state, metadata = _read_file(file)
        except ModelFileError as error:
            raise ModelFileError(f"{path} {error}") from None
        except (_Damaged, DamagedFileError, OSError, ValueError, EOFError, KeyError,
                zipfile.BadZipFile, RecursionError, UnicodeError, OverflowError,
                MemoryError) as error:
            # zipfile and NumPy raise the others for truncated or damaged files
            detail = str(error) if isinstance(error, _Damaged | DamagedFileError) \
                else f"{type(error).__name__}: {error}"
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


def _read_file(file) -> tuple[dict, dict]:
    """The state and metadata in an open model file; ModelFileError or _Damaged if not."""
    magic = file.read(4)
    if magic[:2] != b"PK":  # every zip archive, hence every .npz, starts so
        raise ModelFileError(
            "is not a fastmlp model file: it is not an .npz archive"
            + (" (the file is empty)." if not magic else ".")
        )
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        arrays, version = _read_arrays(archive, os.fstat(file.fileno()).st_size)
    return _decode(arrays, version)


def _read_arrays(archive: zipfile.ZipFile, file_size: int) -> tuple[dict, int]:
    """Every member as an array, once the names, headers, sizes and digest check out."""
    infos = npyfile.members(archive, _ALLOWED)
    headers = {key: _header(archive, info, key, file_size) for key, info in infos.items()}

    def load(key: str) -> np.ndarray:
        with archive.open(infos[key]) as member:
            return np.lib.format.read_array(member, allow_pickle=False)

    if "format" not in infos or str(load("format")) != FORMAT:
        raise ModelFileError("is not a fastmlp model file (no fastmlp header).")
    if "format_version" not in infos:
        raise ModelFileError("is incomplete: missing ['format_version'].")
    version = int(load("format_version"))
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"was written by a newer fastmlp (model format {version}; this version reads "
            f"format {FORMAT_VERSION} and older). Upgrade fastmlp."
        )
    if version < 1:
        raise _Damaged(f"model format {version} does not exist")
    estimator = str(load("estimator")) if version >= 3 and "estimator" in infos else (
        "MLPClassifier")
    if estimator not in ESTIMATORS:
        raise ModelFileError(f"holds an estimator {estimator[:40]!r}, not one of {ESTIMATORS}.")
    required = _REQUIRED[version] + (_CLASSES if estimator == "MLPClassifier" else ())
    missing = [key for key in dict.fromkeys(required) if key not in infos]
    if missing:
        raise ModelFileError(f"is incomplete: missing {missing}.")
    _check_shapes(headers, _check_layers(load("layer_sizes")))
    if DIGEST in infos:
        _check_digest(archive, infos, str(load(DIGEST)))
    return {key: load(key) for key in infos if key != DIGEST}, version


def _check_shapes(headers: dict, layer_sizes: tuple[int, ...]) -> None:
    """The arrays' declared shapes and dtypes against the layers, before any is read."""
    n_params = n_parameters(layer_sizes)
    dtype = headers["params"].dtype
    if dtype not in (np.float32, np.float64):
        raise _Damaged(f"params have dtype {dtype}, not float32 or float64")
    expected = {"params": (n_params,), "classes": (layer_sizes[-1],),
                **{f"optimizer_{name}": (n_params,) for name in OPTIMIZER_BUFFERS}}
    for key, shape in expected.items():
        if key in headers and headers[key].shape != shape:
            raise ModelFileError(
                f"holds {key} of shape {headers[key].shape}, which do not fit layers "
                f"{layer_sizes}."
            )
        if key.startswith("optimizer_") and key in headers and headers[key].dtype != dtype:
            raise _Damaged(f"{key} has dtype {headers[key].dtype}, not {dtype}")


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, file_size: int):
    """A member's header, checked against the format's schema; fastmlp writes uncompressed."""
    if info.compress_type != zipfile.ZIP_STORED:
        raise _Damaged(f"{key} is compressed; fastmlp writes model files uncompressed")
    header = npyfile.member_header(archive, info, file_size)
    kinds, ndim = _SCHEMA[key]
    dtype = header.dtype
    if dtype.kind not in kinds or dtype.hasobject or len(header.shape) != ndim:
        raise _Damaged(f"{key} holds {dtype} of shape {header.shape}")
    if header.fortran_order and ndim > 1:
        raise _Damaged(f"{key} is stored in Fortran order")
    if key == DIGEST and header.nbytes > 1024:
        raise _Damaged(f"{key} holds {header.nbytes:,} bytes, more than a digest")
    return header


def _check_layers(sizes: np.ndarray) -> tuple[int, ...]:
    """layer_sizes as ints: at least input and output, each >= 1, of any depth fit allows."""
    if sizes.ndim != 1 or sizes.size < 2 or (sizes < 1).any():
        raise _Damaged(f"layer_sizes {sizes.tolist()[:8]} are not 2 or more sizes >= 1")
    return tuple(int(n) for n in sizes.tolist())


def _decode(arrays: dict, version: int) -> tuple[dict, dict]:
    """The state and metadata that the arrays of a model file hold (without ``digest``)."""
    estimator = str(arrays["estimator"]) if "estimator" in arrays else "MLPClassifier"
    classes = None
    if estimator == "MLPClassifier":
        classes = arrays["classes"]
        if bool(arrays["classes_object"]):
            classes = np.array(classes.tolist(), dtype=object)
    hyperparams = _loads(arrays["hyperparams"], "hyper-parameters")
    if version >= 2:
        architecture = _loads(arrays["architecture"], "architecture")
    else:  # format 1 took the network's activations from the hyper-parameters
        architecture = {name: hyperparams.get(name) for name in _ARCHITECTURE}
    optimizer = None
    if "optimizer_state" in arrays:
        optimizer = _loads(arrays["optimizer_state"], "optimizer state")
        for name in OPTIMIZER_BUFFERS:
            if f"optimizer_{name}" in arrays:
                optimizer[name] = arrays[f"optimizer_{name}"]
    state = {
        "estimator": estimator,
        "hyperparams": hyperparams,
        "architecture": architecture,
        "layer_sizes": tuple(int(n) for n in arrays["layer_sizes"].tolist()),
        "params": arrays["params"],
        "classes": classes,
        "attributes": _loads(arrays["state"], "fitted attributes"),
        "optimizer": optimizer,
    }
    return state, _loads(arrays["metadata"], "metadata")


class _Sink:
    """A write-only file that hands every piece written to ``update``."""

    def __init__(self, update) -> None:
        self.write = update


def _digest(members) -> str:
    """xxh3-128 of ``(name, write)`` pairs in name order, as 32 hex digits.

    ``write(file)`` writes the member's bytes to ``file``: the ``.npy`` bytes
    ``np.savez`` stores when saving, the stored bytes when reading.
    """
    import xxhash

    digest = xxhash.xxh3_128()
    for key, write in sorted(members, key=lambda item: item[0]):
        digest.update(f"{key}\0".encode())
        write(_Sink(digest.update))
    return digest.hexdigest()


def _npy_bytes(array):
    """Writes ``array``'s ``.npy`` bytes, exactly as ``np.savez`` stores them."""
    return lambda file: np.lib.format.write_array(file, np.asanyarray(array), allow_pickle=False)


def _member_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    """Writes a member's stored bytes, read in pieces."""
    def write(file) -> None:
        with archive.open(info) as member:
            while chunk := member.read(1 << 20):
                file.write(chunk)
    return write


def _check_digest(archive: zipfile.ZipFile, infos: dict, recorded: str) -> None:
    """Refuse a file whose members are not those it was saved with (since format 2's digest)."""
    members = ((key, _member_bytes(archive, info)) for key, info in infos.items() if key != DIGEST)
    if _digest(members) != recorded:
        raise _Damaged("its contents changed after it was saved (the digest differs)")


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
