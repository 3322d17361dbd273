"""Checks of MLPClassifier's parameters, inputs and restored state, in one place.

Parameters are checked against a declarative table,
[PARAMETER_CONSTRAINTS][fastmlp.validation.PARAMETER_CONSTRAINTS], in the
spirit of scikit-learn's ``_parameter_constraints``: each parameter maps to the
constraints one of which its value must meet, and a failure names the
parameter, what it must be and the value given. The string choices come from
[fastmlp.options][fastmlp.options]. The same machinery checks the fitted
attributes a model file restores
([FITTED_ATTRIBUTES][fastmlp.validation.FITTED_ATTRIBUTES]), so that a file
can set only known attributes, each of a checked type.

Input arrays go through [validate_data][fastmlp.validation.validate_data]
(X, as scikit-learn's ``validate_data``) and
[check_labels][fastmlp.validation.check_labels] /
[encode_labels][fastmlp.validation.encode_labels] (y). Messages follow
scikit-learn's where it has one.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from fastmlp import inputscale, numeric, options, sparse
from fastmlp.exceptions import DataConversionWarning, compatible

# -- constraints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A finite number of type ``kind`` between ``left`` and ``right`` (None: unbounded).

    ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"neither"``. Booleans
    are not numbers here, and NaN and infinity are outside every interval
    unless ``finite=False``.
    """

    kind: type
    left: float | None = None
    right: float | None = None
    closed: str = "both"
    finite: bool = True

    def __call__(self, value) -> bool:
        if isinstance(value, bool | np.bool_) or not isinstance(value, self.kind):
            return False
        try:
            number = float(value)  # an int too large for a float is no number here
        except OverflowError:
            return False
        if math.isnan(number) or (self.finite and not math.isfinite(number)):
            return False
        left_ok = self.left is None or (
            value >= self.left if self.closed in ("both", "left") else value > self.left
        )
        right_ok = self.right is None or (
            value <= self.right if self.closed in ("both", "right") else value < self.right
        )
        return left_ok and right_ok

    def __str__(self) -> str:
        what = "an integer" if self.kind is numbers.Integral else "a number"
        if self.left is not None and self.right is not None:
            brackets = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}[self.closed]
            return f"{what} in {brackets[0]}{self.left}, {self.right}{brackets[1]}"
        if self.left is not None:
            return f"{what} {'>=' if self.closed in ('both', 'left') else '>'} {self.left}"
        if self.right is not None:
            return f"{what} {'<=' if self.closed in ('both', 'right') else '<'} {self.right}"
        return what


@dataclass(frozen=True)
class Options:
    """One of the strings ``values``."""

    values: tuple[str, ...]

    def __call__(self, value) -> bool:
        return isinstance(value, str) and value in self.values

    def __str__(self) -> str:
        return f"one of {self.values}" if len(self.values) > 1 else repr(self.values[0])


@dataclass(frozen=True)
class InstanceOf:
    """An instance of one of ``types``, described as ``description``."""

    types: tuple[type, ...]
    description: str

    def __call__(self, value) -> bool:
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.description


@dataclass(frozen=True)
class ListOf:
    """A sequence of one of ``types`` (1-D for arrays) whose every item meets ``item``."""

    item: Callable[[object], bool]
    description: str
    types: tuple[type, ...] = (list, tuple)

    def __call__(self, value) -> bool:
        if not isinstance(value, self.types) or getattr(value, "ndim", 1) != 1:
            return False
        return all(self.item(v) for v in value)

    def __str__(self) -> str:
        return self.description


class _NoneConstraint:
    def __call__(self, value) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


NONE = _NoneConstraint()
BOOLEAN = InstanceOf((bool, np.bool_), "a bool")
POSITIVE_INT = Interval(numbers.Integral, 1)
NON_NEGATIVE_INT = Interval(numbers.Integral, 0)
NON_NEGATIVE = Interval(numbers.Real, 0)
POSITIVE = Interval(numbers.Real, 0, closed="neither")
ANY_FLOAT = Interval(numbers.Real, finite=False)
FLOATS = ListOf(Interval(numbers.Real), "a list of finite numbers")
UNIT_FRACTION = Interval(numbers.Real, 0, 1, "left")
HIDDEN_LAYER_SIZES = ListOf(
    POSITIVE_INT, "a sequence of integers >= 1, e.g. (100,) or (128, 64)",
    (list, tuple, range, np.ndarray),
)

PARAMETER_CONSTRAINTS: dict[str, list] = {
    "hidden_layer_sizes": [POSITIVE_INT, HIDDEN_LAYER_SIZES],
    "activation": [Options(options.ACTIVATIONS)],
    "solver": [Options(options.SOLVERS)],
    "alpha": [NON_NEGATIVE],
    "batch_size": [Options(("auto",)), POSITIVE_INT],
    "learning_rate": [Options(options.LEARNING_RATES)],
    "learning_rate_init": [POSITIVE],
    "power_t": [NON_NEGATIVE],
    "max_iter": [POSITIVE_INT],
    "shuffle": [BOOLEAN],
    "random_state": [
        NONE,
        NON_NEGATIVE_INT,
        InstanceOf((np.random.RandomState, np.random.Generator),
                   "a numpy.random.RandomState or Generator"),
    ],
    "tol": [NON_NEGATIVE],
    "verbose": [BOOLEAN, NON_NEGATIVE_INT],
    "warm_start": [BOOLEAN],
    "momentum": [Interval(numbers.Real, 0, 1)],
    "nesterovs_momentum": [BOOLEAN],
    "early_stopping": [BOOLEAN],
    "validation_fraction": [Interval(numbers.Real, 0, 1, "neither")],
    "beta_1": [UNIT_FRACTION],
    "beta_2": [UNIT_FRACTION],
    "epsilon": [POSITIVE],
    "n_iter_no_change": [POSITIVE_INT],
    "loss": [Options(options.LOSSES)],
    "output_activation": [Options(options.OUTPUT_ACTIVATIONS)],
    "weight_init": [Options(options.WEIGHT_INITS)],
    "init_scale": [POSITIVE],
    "dtype": [NONE, Options(options.DTYPES)],
    "callbacks": [NONE, ListOf(callable, "a list of callables callback(model, info)")],
}
"""MLPClassifier's parameters: each value must meet one of its constraints."""

FITTED_ATTRIBUTES: dict[str, list] = {
    "n_features_in_": [POSITIVE_INT],
    "n_iter_": [NON_NEGATIVE_INT],
    "t_": [NON_NEGATIVE_INT],
    "loss_curve_": [FLOATS],
    "best_loss_": [NONE, ANY_FLOAT],
    "validation_scores_": [NONE, FLOATS],
    "best_validation_score_": [NONE, ANY_FLOAT],
    "_no_improvement_count": [NON_NEGATIVE_INT],
    "loss_": [Interval(numbers.Real)],
    "feature_names_in_": [NONE, ListOf(lambda name: isinstance(name, str), "a list of str")],
    "image_shape_": [NONE, ListOf(POSITIVE_INT, "a list of two integers >= 1")],
}
"""The fitted attributes a model file restores, and what each must be.

All but the last three are required: ``fit`` always sets them (``image_shape_``
is missing from files of fastmlp 0.1).
"""

OPTIONAL_FITTED_ATTRIBUTES = ("loss_", "feature_names_in_", "image_shape_")


def check_fields(
    values: Mapping, constraints: Mapping[str, list], what: str, required: Sequence[str] = ()
) -> None:
    """Raise ``ValueError`` unless every entry of ``values`` meets its constraints.

    Parameters
    ----------
    values : mapping
        Name to value.
    constraints : mapping
        Name to a list of constraints, one of which the value must meet; a name
        not in it is refused.
    what : str
        How the values are named in messages, plural, e.g. ``"parameters"``.
    required : sequence of str
        Names that must be present.
    """
    unknown = sorted(set(values) - set(constraints))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}.")
    missing = [name for name in required if name not in values]
    if missing:
        raise ValueError(f"missing {what} {missing}.")
    for name, value in values.items():
        if not any(constraint(value) for constraint in constraints[name]):
            allowed = " or ".join(str(c) for c in constraints[name])
            raise ValueError(f"{name} must be {allowed}; got {value!r}.")


def validate_params(params: Mapping) -> None:
    """Check MLPClassifier's parameters against ``PARAMETER_CONSTRAINTS``.

    Parameters
    ----------
    params : mapping
        ``get_params()``.

    Raises
    ------
    ValueError
        Naming the first parameter that is out of range, with what it must be.
    """
    check_fields(params, PARAMETER_CONSTRAINTS, "parameters")


def hidden_sizes(hidden_layer_sizes) -> tuple[int, ...]:
    """``hidden_layer_sizes`` (validated) as a tuple of ints."""
    if POSITIVE_INT(hidden_layer_sizes):
        return (int(hidden_layer_sizes),)
    return tuple(int(n) for n in hidden_layer_sizes)


def check_random_state(random_state) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a validated ``random_state``.

    A ``RandomState`` is drawn from once (so successive fits differ, as in
    scikit-learn); an int or None seeds ``default_rng``.
    """
    if isinstance(random_state, np.random.RandomState):
        random_state = random_state.randint(np.iinfo(np.int32).max)
    return np.random.default_rng(random_state)


def check_batch_size(batch_size: int | str, n_samples: int) -> int:
    """Samples per step: ``"auto"`` is ``min(200, n_samples)``; larger sizes are clipped."""
    if batch_size == "auto":
        return min(200, n_samples)
    if batch_size > n_samples:
        warnings.warn(
            f"batch_size={batch_size} is larger than the {n_samples} training samples; it is "
            "clipped to the sample count.",
            UserWarning,
            stacklevel=4,
        )
    return min(int(batch_size), n_samples)


def n_parameters(layer_sizes: Sequence[int]) -> int:
    """Weights and biases of a network with ``layer_sizes`` units per layer (exact int)."""
    sizes = [int(n) for n in layer_sizes]
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))


ARCHITECTURE = ("hidden_layer_sizes", "activation", "output_activation", "loss", "dtype")
"""The parameters that shape a fitted network, which warm starts cannot change."""
FITTED_ACTIVATIONS = ("activation", "output_activation", "loss")
"""Those the network records by name (``_architecture``); layers and dtype it holds."""


def check_same_architecture(estimator, fitted: Mapping, incremental: bool) -> None:
    """Refuse to continue training a network whose shaping parameters changed since fit.

    Parameters
    ----------
    estimator : MLPClassifier
        Its current parameters.
    fitted : mapping
        The fitted network's values of ``ARCHITECTURE`` (``dtype`` as a name).
    incremental : bool
        True for ``partial_fit``, False for a warm-started ``fit``.

    Raises
    ------
    ValueError
        Naming each changed parameter with its fitted and current value.
    """
    # the regressor has no output_activation or loss to choose: _shaping() names them
    current = {**{name: getattr(estimator, name, None) for name in ARCHITECTURE},
               **estimator._shaping()}
    current["hidden_layer_sizes"] = hidden_sizes(current["hidden_layer_sizes"])
    if current["dtype"] is None:  # picked from X at fit: the fitted network's
        current["dtype"] = fitted["dtype"]
    changed = [name for name in ARCHITECTURE if current[name] != fitted[name]]
    if changed:
        how = "partial_fit" if incremental else "fit with warm_start=True"
        raise ValueError(
            f"{how} continues the fitted network, built with "
            + ", ".join(f"{name}={fitted[name]!r}" for name in changed)
            + "; it cannot continue with "
            + ", ".join(f"{name}={current[name]!r}" for name in changed)
            + ". Set them back, or train a new network with fit and warm_start=False."
        )


def check_memory(hidden_layer_sizes, layer_sizes: Sequence[int], dtype, solver: str) -> None:
    """Refuse a network whose training buffers exceed this machine's memory, before allocating.

    Training holds the parameters, their gradients, the divergence guard's
    snapshot of both parameters and optimizer state, and the optimizer's
    buffers (one for SGD, two for Adam): 5 or 7 copies of the flat buffer.

    Raises
    ------
    ValueError
        Naming ``hidden_layer_sizes``, the memory needed and the memory there is.
    """
    copies = 3 + 2 * (2 if solver == "adam" else 1)
    need = n_parameters(layer_sizes) * np.dtype(dtype).itemsize * copies
    available = physical_memory()
    if available is not None and need > available:
        shape = "-".join(str(n) for n in layer_sizes)
        raise ValueError(
            f"hidden_layer_sizes={hidden_layer_sizes!r} makes a {shape} network; training "
            f"it needs about {need / 1e9:,.1f} GB, more than this machine's "
            f"{available / 1e9:,.1f} GB of memory. Use fewer or smaller hidden layers."
        )


def physical_memory() -> int | None:
    """Bytes of physical memory, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_state(state: Mapping) -> dict:
    """The fitted attributes to restore from a model's state, each checked.

    Parameters
    ----------
    state : mapping
        As ``MLPClassifier._get_state()`` returns: ``architecture``,
        ``layer_sizes``, ``params``, ``classes``, ``attributes`` and the
        settings in ``optimizer`` are checked here.

    Returns
    -------
    dict
        Attribute name to value: the known fitted attributes (lists of float
        as such, ``feature_names_in_`` as an object array), ``classes_`` and
        the fitted network's ``_architecture``.

    Raises
    ------
    ValueError
        An unknown or missing attribute, a value of the wrong type, or
        parameters, classes and features that do not fit the layers.
    """
    attributes = dict(state["attributes"])
    classes = state["classes"]
    check_fields(
        attributes, FITTED_ATTRIBUTES, "fitted attributes",
        required=[name for name in FITTED_ATTRIBUTES if name not in OPTIONAL_FITTED_ATTRIBUTES],
    )
    shaping = {name: PARAMETER_CONSTRAINTS[name] for name in FITTED_ACTIVATIONS}
    if classes is None:  # a regressor: identity output, half squared error
        shaping.update(output_activation=[Options(("identity",))],
                       loss=[Options(("squared_error",))])
    check_fields(state["architecture"], shaping, "architecture entries", FITTED_ACTIVATIONS)
    if state["optimizer"] is not None:
        _check_optimizer(state["optimizer"])
    layer_sizes, params = tuple(state["layer_sizes"]), state["params"]
    if params.shape != (n_parameters(layer_sizes),) or (
        classes is not None and layer_sizes[-1] != len(classes)
    ):
        n_classes = "no" if classes is None else len(classes)
        raise ValueError(
            f"{params.size} parameters and {n_classes} classes do not fit layers "
            f"{layer_sizes}."
        )
    if attributes["n_features_in_"] != layer_sizes[0]:
        raise ValueError(
            f"n_features_in_={attributes['n_features_in_']} does not match layers {layer_sizes}."
        )
    check_finite_buffers(params, state["optimizer"])
    if classes is not None:
        _check_classes(classes)
    names = attributes.get("feature_names_in_")
    if names is not None and len(names) != layer_sizes[0]:
        raise ValueError(f"{len(names)} feature names do not match layers {layer_sizes}.")
    for name in ("loss_curve_", "validation_scores_"):
        if attributes[name] is not None:
            attributes[name] = [float(v) for v in attributes[name]]
    if attributes.get("feature_names_in_") is not None:
        attributes["feature_names_in_"] = np.array(attributes["feature_names_in_"], dtype=object)
    else:
        attributes.pop("feature_names_in_", None)
    shape = attributes.get("image_shape_")
    if shape is not None:
        if len(shape) != 2 or shape[0] * shape[1] != layer_sizes[0]:
            raise ValueError(f"image_shape_={shape} does not match layers {layer_sizes}.")
        attributes["image_shape_"] = tuple(shape)
    if classes is not None:
        attributes["classes_"] = classes
    attributes["_architecture"] = dict(state["architecture"])
    return attributes


def _check_classes(classes: np.ndarray) -> None:
    sorted_classes = np.unique(classes)  # TypeError for labels that cannot be sorted
    if sorted_classes.shape != classes.shape or not (sorted_classes == classes).all():
        raise ValueError("classes are not sorted and distinct, as fit records them.")


def check_finite_buffers(params: np.ndarray, optimizer: Mapping | None) -> None:
    """Refuse NaN or infinite weights or optimizer buffers: training never stores them."""
    buffers = {"params": params}
    if optimizer is not None:
        buffers.update(
            (name, value) for name, value in optimizer.items() if isinstance(value, np.ndarray)
        )
    for name, values in buffers.items():
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise ValueError(f"{name} holds NaN or infinite values.")


# optimizer state entry -> the parameter whose constraints it meets
_OPTIMIZER_SETTINGS = {
    "learning_rate_init": "learning_rate_init", "lr_schedule": "learning_rate",
    "momentum": "momentum", "nesterov": "nesterovs_momentum", "power_t": "power_t",
    "beta_1": "beta_1", "beta_2": "beta_2", "epsilon": "epsilon",
}


def _check_optimizer(optimizer: Mapping) -> None:
    """The kind, and the settings of a stored optimizer in the ranges of their parameters."""
    if optimizer.get("kind") not in options.SOLVERS:
        raise ValueError(f"optimizer state of unknown kind {optimizer.get('kind')!r}.")
    for name, parameter in _OPTIMIZER_SETTINGS.items():
        value = optimizer.get(name)
        if name in optimizer and not any(c(value) for c in PARAMETER_CONSTRAINTS[parameter]):
            allowed = " or ".join(str(c) for c in PARAMETER_CONSTRAINTS[parameter])
            raise ValueError(f"optimizer {name} must be {allowed}; got {value!r}.")


# -- X ---------------------------------------------------------------------------------------


def validate_data(
    estimator, X, *, reset: bool, dtype: np.dtype | None, check_finite: bool = True
) -> np.ndarray:
    """X as the C-contiguous 2-D array the network reads.

    uint8 stays uint8 (the network scales it batch by batch); other input is
    converted to ``dtype`` and checked to be finite. Image stacks (n, h, w)
    are flattened. With ``reset``, records ``n_features_in_``,
    ``feature_names_in_`` and ``image_shape_`` on the estimator; otherwise
    checks X against them.

    The image check compares shapes: a model fitted on (n, 28, 28) refuses
    (n, 14, 56) and (n, 784, 1). It cannot tell a transposed stack of square
    images (``X.transpose(0, 2, 1)``) from the original, which has the same
    shape and the same pixel values, only reordered; and flattened
    (n, h * w) input is always accepted, as is any image shape by a model
    fitted on flat rows.

    Parameters
    ----------
    estimator : MLPClassifier
        Where the fitted input facts are recorded or read.
    X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
        The input.
    reset : bool
        True at the start of a fresh fit.
    dtype : numpy dtype or None
        Float dtype for non-uint8 input; None picks it from X (see
        [float_dtype][fastmlp.numeric.float_dtype]).
    check_finite : bool, default=True
        Refuse NaN and infinity here. ``fit`` passes False and lets the first
        epoch check each batch as it reads it, which saves a whole pass over X.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        uint8, float32, float64 (the kernels convert batch by batch) or
        ``dtype``, C-contiguous; for a SciPy sparse X, its checked CSR rows
        ([sparse.validate][fastmlp.sparse.validate]).
    """
    name = type(estimator).__name__
    _check_feature_names(estimator, X, reset)
    if sparse.is_sparse(X):
        return sparse.validate(estimator, X, reset=reset, dtype=dtype)
    X = np.asarray(X)
    if X.ndim != 2 and X.ndim != 3:
        raise ValueError(
            f"Expected a 2-D array (n_samples, n_features) or 3-D images (n_samples, h, w); "
            f"got an array of shape {X.shape}. Reshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample."
        )
    for axis in range(X.ndim):
        if X.shape[axis] < 1:
            raise ValueError(
                f"Found array with 0 {'sample' if axis == 0 else 'feature'}(s) "
                f"(shape={X.shape}) while a minimum of 1 is required by {name}."
            )
    image_shape = tuple(int(n) for n in X.shape[1:]) if X.ndim == 3 else None
    X = X.reshape(X.shape[0], -1)
    if X.dtype != np.uint8:
        inputscale.warn_if_unscaled(X)
        X = numeric.as_float(X, dtype)
        if check_finite:
            check_all_finite(X)
    X = np.ascontiguousarray(X)
    if reset:
        estimator.n_features_in_ = X.shape[1]
        estimator.image_shape_ = image_shape
        return X
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {name} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    fitted_shape = getattr(estimator, "image_shape_", None)
    if image_shape is not None and fitted_shape is not None and image_shape != fitted_shape:
        raise ValueError(
            f"X holds images of shape {image_shape}, but {name} was fitted on images of "
            f"shape {fitted_shape}: reshape X to (n_samples, {fitted_shape[0]}, "
            f"{fitted_shape[1]}) if the pixels are in that order."
        )
    return X


def check_all_finite(X: np.ndarray) -> None:
    """Raise ValueError, naming the first bad entry, if float X holds NaN or infinity."""
    # A finite sum proves every entry finite without an X-sized temporary;
    # only a non-finite sum (or an overflow) pays for the full check.
    with np.errstate(over="ignore"):
        total = X.sum()
    if not np.isfinite(total) and not (finite := np.isfinite(X)).all():
        row, column = np.argwhere(~finite)[0]
        what = "NaN" if np.isnan(X[row, column]) else "infinity"
        raise ValueError(
            f"Input X contains {what} (first at row {row}, column {column}); remove or "
            "impute those values before calling fit or predict."
        )


def _feature_names(X) -> np.ndarray | None:
    """String column names of a data frame, else None (scikit-learn's rule)."""
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = np.asarray(list(columns), dtype=object)
    if names.ndim != 1 or names.size == 0:
        return None
    is_str = [isinstance(n, str) for n in names]
    if all(is_str):
        return names
    if any(is_str):
        raise TypeError(
            "Feature names are only supported if all input features have string names, "
            f"but your input has {sorted({type(n).__name__ for n in names})} as feature name "
            "/ column name types. Convert them all to str, e.g. X.columns = "
            "X.columns.astype(str)."
        )
    return None


def _check_feature_names(estimator, X, reset: bool) -> None:
    """Record data-frame column names at fit and compare them later, as scikit-learn."""
    names = _feature_names(X)
    if reset:
        if names is None:
            estimator.__dict__.pop("feature_names_in_", None)
        else:
            estimator.feature_names_in_ = names
        return
    fitted_names = getattr(estimator, "feature_names_in_", None)
    name = type(estimator).__name__
    if fitted_names is None and names is not None:
        warnings.warn(
            f"X has feature names, but {name} was fitted without feature names",
            UserWarning,
            stacklevel=5,
        )
    elif fitted_names is not None and names is None:
        warnings.warn(
            f"X does not have valid feature names, but {name} was fitted with feature names",
            UserWarning,
            stacklevel=5,
        )
    elif fitted_names is not None and (
        len(names) != len(fitted_names) or (names != fitted_names).any()
    ):
        unexpected = sorted(set(names) - set(fitted_names))
        missing = sorted(set(fitted_names) - set(names))
        detail = ""
        if unexpected:
            detail += f"Feature names unseen at fit time: {unexpected[:10]}\n"
        if missing:
            detail += f"Feature names seen at fit time, yet now missing: {missing[:10]}\n"
        if not detail:
            detail = "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(
            "The feature names should match those that were passed during fit.\n" + detail
        )


# -- y ---------------------------------------------------------------------------------------


def check_labels(y, n_samples: int | None = None, what: str = "y") -> np.ndarray:
    """y as a 1-D array of class labels, one per sample.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels of one sortable type: integers, whole floats, strings, bools or
        objects of those.
    n_samples : int, optional
        Rows of X; ``y`` must have as many.
    what : str
        The argument's name in messages (``"y"`` or ``"classes"``).

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and what == "y":
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples, ), for example using ravel().",
            compatible(DataConversionWarning),
            stacklevel=4,
        )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"{what} should be a 1d array of class labels; got shape {y.shape}. "
            "Multi-label and multi-output targets are not supported."
        )
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(
            f"y has {y.shape[0]} labels but X has {n_samples} samples; they must match."
        )
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            index = int(np.flatnonzero(~np.isfinite(y))[0])
            raise ValueError(
                f"Input {what} contains {y[index]} (first at index {index}); every sample "
                "needs a label: drop those samples or fill in their labels."
            )
        if (y != np.round(y)).any():
            raise ValueError(
                "Unknown label type: continuous. Maybe you are trying to fit a classifier, "
                "which expects discrete classes, on a regression target with continuous "
                "values."
            )
    elif y.dtype == object:
        for index, label in enumerate(y.tolist()):
            missing = isinstance(label, numbers.Real) and not isinstance(label, numbers.Integral)
            if label is None or (missing and not math.isfinite(label)):
                raise ValueError(
                    f"Input {what} contains {label!r} (first at index {index}); every sample "
                    "needs a label: drop those samples or fill in their labels."
                )
    elif y.dtype.kind not in "biuUS":
        raise ValueError(f"Unknown label type: {what} has dtype {y.dtype}.")
    return y


def validate_labels(
    estimator, y, n_samples: int, *, reset: bool, classes=None, incremental: bool = False
) -> np.ndarray:
    """y as class indices (int64) into ``classes_``, which ``reset`` sets.

    The classes are those of ``y``, or ``classes`` on ``partial_fit``'s first
    call, which must then hold every label of ``y``. Without ``reset``, the
    labels must be known: a warm-started ``fit`` must see the same classes,
    and ``classes`` repeated in ``partial_fit`` must not change.

    Parameters
    ----------
    estimator : MLPClassifier
        Holds ``classes_``.
    y : array-like of shape (n_samples,)
        The labels.
    n_samples : int
        Rows of X.
    reset : bool
        True at the start of a fresh fit.
    classes : array-like, optional
        ``partial_fit``'s ``classes``.
    incremental : bool
        True for ``partial_fit``.

    Returns
    -------
    ndarray of shape (n_samples,)
        int64 indices into ``classes_``.
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )
    if incremental and classes is None and reset:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    if classes is not None:
        classes = check_labels(classes, what="classes")
    y = check_labels(y, n_samples)
    labels = unique_labels(y)
    if reset:
        known = labels if classes is None else unique_labels(classes)
        if known.shape[0] < 2:
            raise ValueError(
                f"The classifier needs samples of at least 2 classes in "
                f"{'y' if classes is None else 'classes'}; got only {known.shape[0]} class: "
                f"{known.tolist()}."
            )
        hint = "partial_fit's classes must list every label that y will hold."
        encoded = encode_labels(y, known, hint)
        estimator.classes_ = known
        return encoded
    if incremental and classes is not None and not np.array_equal(
        unique_labels(classes), estimator.classes_
    ):
        raise ValueError(
            f"`classes={unique_labels(classes)!r}` is not the same as on last call to "
            f"partial_fit, was: {estimator.classes_!r}."
        )
    if not incremental and not np.array_equal(labels, estimator.classes_):
        raise ValueError(
            "warm_start can only be used where `y` has the same classes as in the previous "
            f"call to fit. Previously got {estimator.classes_}, `y` has {labels}."
        )
    return encode_labels(y, estimator.classes_, "labels not seen at the first fit.")


def unique_labels(y) -> np.ndarray:
    """Sorted distinct labels; a clear error for labels that cannot be ordered."""
    y = np.asarray(y)
    if y.dtype.kind == "u" and y.dtype.itemsize <= 2 and y.ndim == 1:
        # a count per possible value: several times faster than sorting or hashing
        return np.flatnonzero(np.bincount(y, minlength=1)).astype(y.dtype)
    try:
        return np.unique(y)
    except TypeError:
        kinds = sorted({type(label).__name__ for label in y.ravel().tolist()})
        raise ValueError(
            f"Unknown label type: y mixes labels of types {kinds} that cannot be sorted; "
            "use labels of one type (all strings or all numbers)."
        ) from None


def encode_labels(y: np.ndarray, classes: np.ndarray, hint: str) -> np.ndarray:
    """Indices (int64) of ``y``'s labels in the sorted ``classes``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Checked labels.
    classes : ndarray of shape (n_classes,)
        Sorted known labels.
    hint : str
        Where ``classes`` came from, for the message about unknown labels.
    """
    index = _small_int_index(y, classes)
    if index is None:
        index = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    unknown = classes[index] != y
    if unknown.any():
        raise ValueError(
            f"y contains labels {unique_labels(y[unknown]).tolist()[:10]} that are not in the "
            f"classes {classes.tolist()[:20]}; {hint}"
        )
    return index.astype(np.int64)


def _small_int_index(y: np.ndarray, classes: np.ndarray) -> np.ndarray | None:
    """Indices of 8- or 16-bit unsigned labels through a lookup table, several times
    faster than a binary search; None for other labels. A label outside ``classes``
    gets index 0; the caller compares and refuses it."""
    if y.dtype.kind != "u" or y.dtype.itemsize > 2 or classes.dtype != y.dtype:
        return None
    table = np.zeros(1 << (8 * y.dtype.itemsize), dtype=np.int64)
    table[classes] = np.arange(len(classes))
    return table[y]


def stratified_split(X: np.ndarray, y: np.ndarray, fraction: float, rng: np.random.Generator):
    """Hold out about ``fraction`` of every class for validation.

    Returns
    -------
    X_train, y_train, X_val, y_val : ndarray
        C-contiguous row subsets of X and y.
    """
    train, val_rows = stratified_rows(y, fraction, rng)
    return (np.ascontiguousarray(X[train]), y[train],
            np.ascontiguousarray(X[val_rows]), y[val_rows])


def stratified_rows(y: np.ndarray, fraction: float, rng: np.random.Generator):
    """The rows of [stratified_split][fastmlp.validation.stratified_split]: a
    boolean mask of the training rows and the sorted validation rows."""
    val_rows = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        val_rows.append(members[: int(round(fraction * len(members)))])
    val_rows = np.sort(np.concatenate(val_rows))
    if val_rows.size == 0 or val_rows.size == y.size:
        raise ValueError(
            f"validation_fraction={fraction} leaves an empty training or validation set for "
            f"{y.size} samples; change validation_fraction or set early_stopping=False."
        )
    train = np.ones(y.size, dtype=bool)
    train[val_rows] = False
    return train, val_rows


def assign_layers(targets: list[np.ndarray], values, name: str) -> None:
    """Copy ``values`` into the per-layer views ``targets`` (``coefs_ = ...``), shapes checked."""
    values = list(values)
    if len(values) != len(targets):
        raise ValueError(f"{name} needs {len(targets)} arrays, one per layer; got {len(values)}.")
    for layer, (target, value) in enumerate(zip(targets, values, strict=True)):
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(
                f"{name}[{layer}] must have shape {target.shape}; got {value.shape}."
            )
        target[...] = value
