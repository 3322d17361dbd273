"""Checks of the estimators' parameters against one declarative table.

Parameters are checked against
[PARAMETER_CONSTRAINTS][fastmlp.parameters.PARAMETER_CONSTRAINTS], in the
spirit of scikit-learn's ``_parameter_constraints``: each parameter maps to the
constraints one of which its value must meet, and a failure names the
parameter, what it must be and the value given. The string choices come from
[fastmlp.options][fastmlp.options]. The same constraints check the fitted
attributes a model file restores ([fastmlp.modelstate][fastmlp.modelstate]).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from fastmlp import memory, options


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
    available = memory.physical_memory()
    if available is not None and need > available:
        shape = "-".join(str(n) for n in layer_sizes)
        raise ValueError(
            f"hidden_layer_sizes={hidden_layer_sizes!r} makes a {shape} network; training "
            f"it needs about {need / 1e9:,.1f} GB, more than this machine's "
            f"{available / 1e9:,.1f} GB of memory. Use fewer or smaller hidden layers."
        )

