"""A sweep grid's size and memory, checked on its description before any point exists.

Expanding a grid makes one dict per point, and checking a point builds its
network: a grid of 1000 x 1000 x 1000 values, or one hidden layer of 30
million units, would take gigabytes and seconds before saying anything. Here
the grid is measured from its value lists alone (the product of their
lengths, and each network's size from its layer sizes), in well under a
millisecond, against two limits the errors name: ``MAX_POINTS`` points, and
this machine's physical memory for one fit's training buffers (the limit
``MLPClassifier.fit`` itself applies) and for the fitted models a sweep
returns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fastmlp import memory, numeric, parameters

MAX_POINTS = 10_000
"""Points a sweep runs at most: checking them alone takes seconds beyond this, and the
results hold one fitted model each."""

def sub_grids(grid: Mapping[str, Sequence] | Sequence[Mapping[str, Sequence]]) -> list[Mapping]:
    """The grid's mappings (one, or the union's), each value list checked, none expanded.

    Raises
    ------
    ValueError
        A part that is not a mapping, or a value list that is empty or not a
        sequence (a bare string or number).
    """
    grids = [grid] if isinstance(grid, Mapping) else list(grid)
    for one in grids:
        if not isinstance(one, Mapping):
            raise ValueError(
                f"a grid maps parameter names to lists of values; got {type(one).__name__}"
            )
        for name, values in one.items():
            if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
                raise ValueError(
                    f"grid[{name!r}] must be a list of values to try, e.g. "
                    f"{{{name!r}: [{values!r}]}}; got {values!r}"
                )
            if len(values) == 0:
                raise ValueError(f"grid[{name!r}] is empty; give at least one value")
    return grids


def count_points(grid: Mapping[str, Sequence] | Sequence[Mapping[str, Sequence]]) -> int:
    """Points the grid expands to: the product of its value lists' lengths (summed over a
    union), without expanding it."""
    return sum(math.prod(len(values) for values in one.values()) for one in sub_grids(grid))


def check_count(n_points: int) -> int:
    """Refuse more than ``MAX_POINTS`` points (``n_points`` counted, not expanded)."""
    if n_points > MAX_POINTS:
        raise ValueError(
            f"the grid has {n_points:,} points, more than the {MAX_POINTS:,} a sweep runs at "
            "most (fastmlp.grids.MAX_POINTS); sweep fewer values, or split the grid"
        )
    return n_points


def check_grid(
    grid: Mapping[str, Sequence] | Sequence[Mapping[str, Sequence]],
    base: Mapping[str, Any],
    n_features: int = 1,
    n_classes: int = 2,
    data_dtype: Any = None,
) -> int:
    """Refuse a grid too large to sweep, from its description; return its number of points.

    Parameters
    ----------
    grid : mapping or sequence of mappings
        As for [expand_grid][fastmlp.sweeps.expand_grid].
    base : mapping
        The parameters shared by all points (the grid's values override them).
    n_features : int, default=1
        Of the data the points will train on: it sizes the first layer.
    n_classes : int, default=2
        Of that data: it sizes the last layer.
    data_dtype : numpy dtype, optional
        Of that data: the float type of the points with ``dtype=None``
        (float32 for uint8 and float32 data). None: assume float64, the larger.

    Returns
    -------
    int
        The number of points.

    Raises
    ------
    ValueError
        More than ``MAX_POINTS`` points; a grid value of ``hidden_layer_sizes``
        whose training would not fit in this machine's memory (naming it, the
        memory needed and the memory there is); or fitted models that would
        not fit in it together.
    """
    from fastmlp import MLPClassifier

    n_points = check_count(count_points(grid))
    merged = {**MLPClassifier().get_params(), **base}
    model_bytes = 0
    for one in sub_grids(grid):
        layers = one.get("hidden_layer_sizes", [merged["hidden_layer_sizes"]])
        solver = "adam" if "adam" in one.get("solver", [merged["solver"]]) else "sgd"
        dtypes = {str(_model_dtype(d, data_dtype)) for d in one.get("dtype", [merged["dtype"]])}
        dtype = np.float32 if dtypes == {"float32"} else np.float64  # the larger of them
        others = math.prod(len(v) for name, v in one.items() if name != "hidden_layer_sizes")
        for hidden in layers:
            sizes = _sizes(hidden)
            if sizes is None:
                continue  # not layer sizes: the point's check names it
            layer_sizes = (n_features, *sizes, n_classes)
            parameters.check_memory(hidden, layer_sizes, dtype, solver)
            # a returned model keeps its parameters and its optimizer's buffers
            copies = 3 if solver == "adam" else 2
            model_bytes += (parameters.n_parameters(layer_sizes) * np.dtype(dtype).itemsize
                            * copies * others)
    available = memory.physical_memory()
    if available is not None and model_bytes > available:
        raise ValueError(
            f"the grid's {n_points:,} fitted models would need about {model_bytes / 1e9:,.1f} "
            f"GB together, more than this machine's {available / 1e9:,.1f} GB of memory; "
            "sweep fewer points or smaller networks"
        )
    return n_points


def _model_dtype(dtype: Any, data_dtype: Any) -> np.dtype:
    """The float type of a point's model, as ``fit`` picks it (float64 where unknown)."""
    if dtype is None and data_dtype is not None:
        return numeric.float_dtype(None, np.empty(0, dtype=data_dtype))
    try:
        return np.dtype(dtype if dtype is not None else np.float64)
    except TypeError:  # not a dtype: the point's own check names it
        return np.dtype(np.float64)


def _sizes(hidden: Any) -> tuple[int, ...] | None:
    """Layer sizes as a tuple of positive ints, or None if ``hidden`` is not valid ones."""
    if not any(check(hidden) for check in parameters.PARAMETER_CONSTRAINTS["hidden_layer_sizes"]):
        return None
    return parameters.hidden_sizes(hidden)
