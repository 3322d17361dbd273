"""Checks of the state a model file restores, and of weights set by hand.

[check_state][fastmlp.modelstate.check_state] accepts only the known fitted
attributes ([FITTED_ATTRIBUTES][fastmlp.modelstate.FITTED_ATTRIBUTES]), each of
a checked type, with weights, classes and features that fit the layers and a
stored optimizer whose settings are in the ranges of their parameters.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from fastmlp import options
from fastmlp.parameters import (
    ANY_FLOAT,
    FITTED_ACTIVATIONS,
    FLOATS,
    NON_NEGATIVE_INT,
    NONE,
    PARAMETER_CONSTRAINTS,
    POSITIVE_INT,
    Interval,
    ListOf,
    Options,
    check_fields,
    n_parameters,
)

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
