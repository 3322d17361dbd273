"""What the compiled steps take: their arguments grouped into named tuples, and
the views they carve from the flat buffers.

Arguments travel grouped, as pynndescent passes its trees: a
[Source][fastmlp.engine.arguments.Source] of samples (the input, its targets,
the epoch's order), a [Model][fastmlp.engine.arguments.Model] (the flat
parameters, their [Layout][fastmlp.engine.arguments.Layout], the
[Kinds][fastmlp.engine.arguments.Kinds] of activations and loss, and the
optimizer's [Solver][fastmlp.engine.updates.Solver]) and
[Buffers][fastmlp.engine.arguments.Buffers] of scratch memory. Numba compiles
a function once per combination of its arguments' types, so every field keeps
the type it had as a separate argument: F, the network's float dtype (float32
or float64), for every float array and every float scalar the caller casts.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from fastmlp.engine import kernels, updates
from fastmlp.engine.csr import Rows
from fastmlp.engine.kernels import Targets
from fastmlp.engine.updates import Solver


class Layout(NamedTuple):
    """Where each layer lives in the flat parameter buffer and in the unit buffers.

    shapes : (L, 2) int64, ``(n_in, n_out)`` per layer.
    weight_offsets, bias_offsets : (L,) int64, starts in ``params``.
    unit_offsets : (L,) int64, where each layer's units start in a sample's
        activations (per-sample path) or, times the batch length, in a batch's.
    n_weights : int, the leading entries of ``params`` that are weights.
    """

    shapes: np.ndarray
    weight_offsets: np.ndarray
    bias_offsets: np.ndarray
    unit_offsets: np.ndarray
    n_weights: int


class Kinds(NamedTuple):
    """Codes of ``kernels``: the hidden and output activations and the loss."""

    hidden: int
    output: int
    loss: int


class Model(NamedTuple):
    """The network a run of steps trains.

    params : (p,) F, the flat parameter buffer, updated in place.
    layout, kinds : [Layout][fastmlp.engine.arguments.Layout] and
        [Kinds][fastmlp.engine.arguments.Kinds].
    solver : [updates.Solver][fastmlp.engine.updates.Solver], the optimizer's
        settings and state.
    """

    params: np.ndarray
    layout: Layout
    kinds: Kinds
    solver: updates.Solver


class Source(NamedTuple):
    """Where a run of steps reads its samples.

    X : (n, d), C-contiguous, uint8, float32 or float64, or CSR rows
        ([fastmlp.engine.csr][fastmlp.engine.csr], always listed).
    in_place_X : (n, d) or (0, d) F, X itself when its rows can be used in place
        (dtype F, C-contiguous, ``rows`` in order), else an empty array (always,
        for the per-sample steps).
    y : [kernels.Targets][fastmlp.engine.kernels.Targets] (mini-batches) or
        (n,) int64 class indices (per-sample steps), in the order of X.
    rows : (n,) int64, the epoch's sample order.
    scale : F scalar, 1/255 for uint8 X, else 1.
    check : bool, check each sample for NaN or infinity as it is read (once
        per fit).
    """

    X: np.ndarray
    in_place_X: np.ndarray
    y: kernels.Targets | np.ndarray
    rows: np.ndarray
    scale: float
    check: bool


class Buffers(NamedTuple):
    """Scratch memory of one fit, allocated once.

    inputs : (B * d,) F, the gathered batch. units, deltas : (B * sum of
    widths,) F, each layer's activations and ``dL/dZ``. grads : (p,) F, laid
    out like ``params``. (The batch's targets are read in place, through its
    rows: [kernels.Targets][fastmlp.engine.kernels.Targets].) Split batches
    have one of each per shard, on a leading axis.
    """

    inputs: np.ndarray
    units: np.ndarray
    deltas: np.ndarray
    grads: np.ndarray


@njit(cache=True, error_model="numpy", inline="always")
def layer(flat, layout, index):
    """Views of one layer's (n_in, n_out) weights and (n_out,) biases in ``flat``."""
    n_in, n_out = layout.shapes[index, 0], layout.shapes[index, 1]
    w0, b0 = layout.weight_offsets[index], layout.bias_offsets[index]
    return flat[w0:w0 + n_in * n_out].reshape((n_in, n_out)), flat[b0:b0 + n_out]


@njit(cache=True, error_model="numpy", inline="always")
def block(flat, layout, index, m):
    """The (m, n_out) block of one layer in a batch buffer (units or deltas)."""
    n_out = layout.shapes[index, 1]
    start = layout.unit_offsets[index] * m
    return flat[start:start + m * n_out].reshape((m, n_out))


@njit(cache=True, error_model="numpy", inline="always")
def flat_layer(flat, layout, index):
    """One layer's weights as a flat (n_in * n_out,) view and its (n_out,) biases;
    the per-sample loops index rows of the flat view, which vectorizes best."""
    n_in, n_out = layout.shapes[index, 0], layout.shapes[index, 1]
    w0, b0 = layout.weight_offsets[index], layout.bias_offsets[index]
    return flat[w0:w0 + n_in * n_out], flat[b0:b0 + n_out], n_in, n_out


@njit(cache=True, error_model="numpy", inline="always")
def unit_row(flat, layout, index):
    """One sample's (n_out,) units (or deltas) of one layer."""
    start = layout.unit_offsets[index]
    return flat[start:start + layout.shapes[index, 1]]


def rebuilt(value):
    """``value`` itself; a named tuple built anew by its class (compiled code only).

    A parallel loop (``prange``) takes in named tuples one level deep, and only
    where it sees the call that built them: an argument's, or its class's call
    in the same function. A Layout read out of a Model is neither, so the
    parallel steps pass what their loops use through ``rebuilt`` (inlined: the
    loop then sees the class's call). Costs nothing: the arrays are not copied.
    """
    return value


@overload(rebuilt, inline="always")
def _rebuilt(value):
    if not isinstance(value, types.BaseNamedTuple):
        return lambda value: value
    cls = value.instance_class
    # each class called by its global name, which the parallel loop looks up
    if cls is Layout:
        return lambda value: Layout(*value)
    if cls is Kinds:
        return lambda value: Kinds(*value)
    if cls is Solver:
        return lambda value: Solver(*value)
    if cls is Targets:
        return lambda value: Targets(*value)
    if cls is Rows:
        return lambda value: Rows(*value)
    return None
