"""Hyper-parameter sweeps: one MLPClassifier fit per grid point, run on a Dask cluster.

[sweep][fastmlp.sweeps.sweep] expands a grid, checks every point with the
estimator's own validation before anything runs, sends the training and
validation data to each worker once, fits one model per point as a Dask task
and returns one [SweepResult][fastmlp.sweeps.SweepResult] per point. A point
that fails (for example by diverging) is recorded with its error and the
sweep goes on; a worker lost mid-sweep costs nothing, because Dask reruns its
tasks on the others.

Without a client, an embedded ``LocalCluster`` runs one single-threaded worker
process per core; with a scheduler address (``tcp://host:8786``), the same
call runs on a cluster of any size. Dask is imported only inside the functions
that need it, so ``import fastmlp`` and training never load it.
``fastmlp.sweep`` is [sweep][fastmlp.sweeps.sweep]; the module's other names
(``ranked``, ``best``, ``local_client``, ...) are imported from here.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastmlp import cluster, extras, grids, sweeptask
from fastmlp.exceptions import SchedulerError
from fastmlp.presets import PRESETS

VALIDATION_SIZE = 10_000
"""Training samples held out for validation when no validation set is given: the last 10,000
(the last sixth of smaller training sets)."""


@dataclass
class SweepResult:
    """The outcome of one grid point.

    Attributes
    ----------
    index : int
        Position of the point in the expanded grid.
    params : dict
        The point's own parameter values (the swept ones), by name.
    validation_accuracy : float or None
        Accuracy on the validation set; None if the point failed.
    loss_curve : list of float
        Training loss after every epoch completed (also of a failed point, up to its failure).
    seconds : float or None
        Wall time of ``fit`` on the worker, including one-off setup; None if the task never ran.
    samples_per_s : float or None
        Training samples per second over the epochs alone.
    worker : str or None
        Address of the worker that ran the fit, such as ``"tcp://10.0.0.2:40331"``.
    error : str or None
        ``"ExceptionType: message"`` if the point failed, else None.
    model : MLPClassifier or None
        The fitted estimator, ready for ``predict`` and ``save``; None if the point failed.
    """

    index: int
    params: dict
    validation_accuracy: float | None = None
    loss_curve: list = field(default_factory=list)
    seconds: float | None = None
    samples_per_s: float | None = None
    worker: str | None = None
    error: str | None = None
    model: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True if the point was fitted and scored."""
        return self.error is None

    def to_dict(self) -> dict:
        """The record as JSON-ready values, without the model (tuples become lists, a
        non-finite number its name, so that the output is strict JSON)."""
        return {
            "params": {name: _json_value(value) for name, value in self.params.items()},
            "validation_accuracy": self.validation_accuracy,
            "seconds": self.seconds,
            "samples_per_s": self.samples_per_s,
            "worker": self.worker,
            "error": self.error,
            "loss_curve": [_json_value(loss) for loss in self.loss_curve],
        }


def ranked(results: Sequence[SweepResult]) -> list[SweepResult]:
    """Results by validation accuracy, best first; failed points last, each group in grid order.

    Parameters
    ----------
    results : sequence of SweepResult

    Returns
    -------
    list of SweepResult
    """
    return sorted(results, key=lambda r: (not r.ok, -(r.validation_accuracy or 0.0), r.index))


def best(results: Sequence[SweepResult]) -> SweepResult:
    """The point of highest validation accuracy (the first in grid order on a tie).

    Parameters
    ----------
    results : sequence of SweepResult

    Returns
    -------
    SweepResult

    Raises
    ------
    ValueError
        If no point succeeded; the message quotes the first error.
    """
    succeeded = [result for result in results if result.ok]
    if not succeeded:
        first = results[0].error if results else "the grid is empty"
        raise ValueError(f"no point of the sweep succeeded; the first error was: {first}")
    return ranked(succeeded)[0]


# -- the grid ---------------------------------------------------------------------------


def expand_grid(grid: Mapping[str, Sequence] | Sequence[Mapping[str, Sequence]]) -> list[dict]:
    """Every combination of the grid's values, in order (the last name varies fastest).

    Parameters
    ----------
    grid : mapping of str to sequence, or a sequence of such mappings
        Parameter name to the values to try. A sequence of mappings is the
        union of their grids, as in scikit-learn's ``ParameterGrid``.

    Returns
    -------
    list of dict
        One dict of parameter values per point.

    Raises
    ------
    ValueError
        If a value list is empty or not a sequence (a bare string or number).
    """
    points = []
    for one in grids.sub_grids(grid):
        names = list(one)
        for combination in itertools.product(*(one[name] for name in names)):
            points.append(dict(zip(names, combination, strict=True)))
    return points


def base_params(params: Mapping[str, Any] | str | None) -> dict:
    """Estimator parameters from a dict, a preset name or None (the estimator's defaults).

    Parameters
    ----------
    params : dict, str or None
        ``MLPClassifier`` keyword arguments, or a key of
        [PRESETS][fastmlp.presets.PRESETS] such as ``"default"``.

    Returns
    -------
    dict
        A new dict.
    """
    if params is None:
        return {}
    if isinstance(params, str):
        if params not in PRESETS:
            raise ValueError(f"unknown preset {params!r}; choose one of {sorted(PRESETS)}")
        return dict(PRESETS[params])
    if not isinstance(params, Mapping):
        raise ValueError(
            f"params must be a dict of MLPClassifier parameters or a preset name; "
            f"got {type(params).__name__}"
        )
    return dict(params)


def check_params(params: Mapping[str, Any]) -> None:
    """Raise the estimator's own error if ``MLPClassifier(**params)`` would refuse to fit.

    Unknown names are refused by ``set_params`` (its message lists the valid
    ones). Values are checked by the estimator itself: a ``partial_fit`` on two
    constant samples, which validates every parameter (``max_iter`` included)
    and runs one epoch of two samples. Cheap: well under a millisecond for
    small networks, after the one-off load of the compiled kernels.

    Parameters
    ----------
    params : mapping
        ``MLPClassifier`` keyword arguments.

    Raises
    ------
    ValueError
        Naming the parameter and the allowed values.
    """
    from fastmlp import MLPClassifier, options

    model = MLPClassifier().set_params(**params)
    # the probe draws from a RandomState instance: draw from a copy, leave the caller's alone
    model.set_params(random_state=copy.deepcopy(model.random_state))
    # partial_fit tests the solver first, in words about itself; say it as fit would
    if model.solver not in options.SOLVERS:
        raise ValueError(f"solver must be one of {options.SOLVERS}; got {model.solver!r}.")
    # partial_fit refuses early stopping, and verbose or callbacks would act on the probe;
    # none of the three has a value the estimator could refuse.
    model.set_params(early_stopping=False, verbose=False, callbacks=None)
    X = np.zeros((2, 1), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. batch_size clipped to the two samples
        try:
            model.partial_fit(X, np.array([0, 1]), classes=np.array([0, 1]))
        except MemoryError:
            raise ValueError(
                f"hidden_layer_sizes={params.get('hidden_layer_sizes')!r} does not fit in "
                "memory; choose smaller layers"
            ) from None


def check_points(
    grid: Mapping[str, Sequence] | Sequence[Mapping[str, Sequence]],
    params: Mapping[str, Any] | str | None = None,
    *,
    n_features: int = 1,
    n_classes: int = 2,
    data_dtype: Any = None,
) -> list[dict]:
    """Expand ``grid`` over ``params`` and check every point before anything runs.

    The grid's size and memory are checked on its description first
    ([grids.check_grid][fastmlp.grids.check_grid]), so that a grid too large
    to sweep fails at once, before any point exists.

    Parameters
    ----------
    grid : mapping or sequence of mappings
        As for [expand_grid][fastmlp.sweeps.expand_grid].
    params : dict, str or None
        Base parameters or a preset name, as for [sweep][fastmlp.sweeps.sweep].
    n_features : int, default=1
        Of the data to sweep on: sizes the networks' first layer.
    n_classes : int, default=2
        Of that data: sizes their last layer (the defaults size only the hidden layers).
    data_dtype : numpy dtype, default=None
        Of that data: picks the float type where ``dtype`` is None.

    Returns
    -------
    list of dict
        One dict of parameter values per point, the swept ones only.

    Raises
    ------
    ValueError
        If the grid is empty, too large (``grids.MAX_POINTS``, or memory), or a
        point has an unknown name or invalid value; the message names the point.
    """
    base = base_params(params)
    grids.check_grid(grid, base, n_features, n_classes, data_dtype)
    points = expand_grid(grid)
    if not points:
        raise ValueError("the grid has no points; give at least one parameter and value")
    # the shared values first, so that their errors do not read as the first point's
    swept = {name for point in points for name in point}
    check_params({name: value for name, value in base.items() if name not in swept})
    for point in points:
        try:
            check_params({**base, **point})
        except (TypeError, ValueError) as error:
            shown = ", ".join(f"{name}={value!r}" for name, value in point.items())
            raise ValueError(f"grid point {shown}: {error}") from None
    return points


# -- the data ---------------------------------------------------------------------------


def validation_split(X, y, X_val=None, y_val=None) -> tuple:
    """The training data and the validation set a sweep uses.

    Parameters
    ----------
    X, y : array-like
        Training data; the last ``VALIDATION_SIZE`` samples (or the last sixth
        of fewer than 60,000) are held out if no validation set is given.
    X_val, y_val : array-like, optional
        An explicit validation set; both or neither.

    Returns
    -------
    tuple
        ``(X_train, y_train, X_val, y_val)`` as NumPy arrays.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels; they must match")
    if (X_val is None) != (y_val is None):
        raise ValueError("pass both X_val and y_val, or neither (to hold out the end of X)")
    if X_val is None:
        n_val = default_validation_size(len(X))
        if n_val < 1:
            raise ValueError(
                f"X has {len(X)} samples, too few to hold out a validation set; "
                "pass X_val and y_val"
            )
        return X[:-n_val], y[:-n_val], X[-n_val:], y[-n_val:]
    X_val, y_val = np.asarray(X_val), np.asarray(y_val)
    if len(X_val) != len(y_val) or len(X_val) == 0:
        raise ValueError(
            f"X_val has {len(X_val)} samples and y_val {len(y_val)} labels; they must match "
            "and not be empty"
        )
    if math.prod(X_val.shape[1:]) != math.prod(X.shape[1:]):
        raise ValueError(
            f"X_val has samples of shape {X_val.shape[1:]} but X of shape {X.shape[1:]}; "
            "they must have the same number of features"
        )
    return X, y, X_val, y_val


def default_validation_size(n_samples: int) -> int:
    """Samples held out for validation from a training set of ``n_samples``.

    ``VALIDATION_SIZE`` (10,000: MNIST's 60,000 become 50,000 + 10,000), or a
    sixth of smaller training sets.
    """
    return min(VALIDATION_SIZE, n_samples // 6)


# -- the cluster ------------------------------------------------------------------------


def default_workers() -> int:
    """Cores this process may run on: the embedded cluster's number of workers."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextmanager
def local_client(workers: int | None = None) -> Iterator[Any]:
    """A Dask client of an embedded cluster: ``workers`` processes of one thread each.

    The scheduler and workers listen on 127.0.0.1 only, without a dashboard,
    and are shut down when the block ends, also on an error or Ctrl-C.

    Parameters
    ----------
    workers : int, optional
        Worker processes; default one per core (``default_workers()``).

    Yields
    ------
    distributed.Client
    """
    import logging
    import multiprocessing

    extras.require("distributed", "fastmlp.sweeps.local_client")
    import dask
    from distributed import Client, LocalCluster

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # a worker process being started is re-running the user's script (the "spawn"
        # start method imports __main__), which would start clusters without end
        raise RuntimeError(
            "fastmlp.sweep starts worker processes, which import your main script; put the "
            "code that calls it under `if __name__ == \"__main__\":`."
        )
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1; got {workers}")
    # Dask's active memory manager drops "superfluous" replicas of the broadcast data once
    # fewer than 20 points wait for it, and a worker that then steals a point fetches it
    # again: the embedded cluster keeps every worker's copy until the sweep releases it.
    with dask.config.set({"distributed.scheduler.active-memory-manager.start": False}), \
            cluster.sigint_ignored():
        embedded = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.CRITICAL,
            # the scheduler serves HTTP (health, metrics) even without a dashboard: on a
            # free loopback port rather than 8787, which another cluster may hold
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            preload=[cluster.__name__],  # its dask_setup, in each worker process
        )
    with embedded, Client(embedded, set_as_default=False) as client:
        try:
            yield client
        except KeyboardInterrupt:
            # A running fit cannot be interrupted, and a graceful close waits up to 4 s for
            # it; its result is not wanted, so stop the worker processes now.
            embedded.sync(cluster.stop_workers, list(embedded.workers.values()))
            raise


@contextmanager
def _connected(client: Any, timeout: float) -> Iterator[Any]:
    """The client to use: ours to close if made here from None or an address."""
    if client is None:
        with local_client() as embedded:
            yield embedded
    elif isinstance(client, str):
        with cluster.connect(client, timeout) as connected:
            yield connected
    else:
        yield client


WORKER_TIMEOUT = 60.0
"""Seconds a sweep waits for a cluster without workers to get its first one."""


# -- the sweep --------------------------------------------------------------------------


def sweep(
    grid: Mapping[str, Sequence] | Sequence[Mapping[str, Sequence]],
    X,
    y,
    *,
    X_val=None,
    y_val=None,
    params: Mapping[str, Any] | str | None = None,
    client: Any = None,
    callback: Callable[[SweepResult], None] | None = None,
    connect_timeout: float = cluster.CONNECT_TIMEOUT,
) -> list[SweepResult]:
    """Fit one ``MLPClassifier`` per grid point on a Dask cluster and score it on validation data.

    Every point is checked first (unknown names and invalid values raise
    before any work starts). The data goes to each worker once; each point is
    one task, which runs BLAS and Numba on one thread (a worker of n threads
    runs n fits at once). A point that fails is recorded with its error, and
    the sweep goes on. On Ctrl-C the outstanding tasks are cancelled and an
    embedded cluster is shut down before ``KeyboardInterrupt`` propagates.

    Parameters
    ----------
    grid : mapping of str to sequence, or a sequence of such mappings
        Parameter values to try, e.g. ``{"hidden_layer_sizes": [(16,), (64,)],
        "learning_rate_init": [1e-3, 3e-3]}`` (every combination).
    X, y : array-like
        Training data, e.g. ``x_train`` and ``y_train`` of ``load_mnist()``.
    X_val, y_val : array-like, optional
        Validation set that ranks the points. Default: the last 10,000
        samples of ``X`` and ``y`` (the last sixth if there are fewer than
        60,000), which are then not trained on. Never pass the test set.
    params : dict or str, optional
        Parameters shared by all points, or a preset name (``"default"``);
        the grid's values override them. Default: ``MLPClassifier``'s own
        defaults. Set ``random_state`` for reproducible points.
    client : distributed.Client or str, optional
        A client to use, or a scheduler address such as
        ``"tcp://10.0.0.1:8786"`` to connect to. Default: an embedded
        ``LocalCluster`` with one single-threaded worker process per core,
        started and shut down by this call. An address is reached through
        [cluster.connect][fastmlp.cluster.connect]: within ``connect_timeout``
        or one clear error.
    callback : callable, optional
        Called with each ``SweepResult`` as it arrives (in completion order),
        e.g. to show progress.
    connect_timeout : float, default=cluster.CONNECT_TIMEOUT
        Seconds to connect to a scheduler address and hear its handshake.

    Returns
    -------
    list of SweepResult
        One per point, in grid order.

    Raises
    ------
    ValueError
        An empty grid, an unknown parameter name, an invalid value or
        mismatched data; raised before anything is sent to a cluster.
    OSError
        The scheduler cannot be reached (``SchedulerError``), has no workers
        within ``WORKER_TIMEOUT`` s, or the workers holding the sweep's data
        left the cluster (``SchedulerError``: the points cannot run without it).

    Examples
    --------
    Two widths of the default preset, one epoch each, on an embedded cluster (a
    slice of MNIST keeps it quick; its last sixth is the validation set):

    >>> import fastmlp
    >>> from fastmlp.presets import PRESETS
    >>> (x_train, y_train), _ = fastmlp.load_mnist()
    >>> params = dict(PRESETS["default"], max_iter=1, random_state=0)
    >>> results = fastmlp.sweep({"hidden_layer_sizes": [(16,), (32,)]},
    ...                         x_train[:6000], y_train[:6000], params=params)
    >>> [result.params for result in results]
    [{'hidden_layer_sizes': (16,)}, {'hidden_layer_sizes': (32,)}]
    >>> all(result.ok and result.validation_accuracy > 0.5 for result in results)
    True
    >>> best(results).model.predict(x_train[:3]).shape
    (3,)
    """
    extras.require("distributed", "fastmlp.sweep")
    base = base_params(params)
    X, y, X_val, y_val = validation_split(X, y, X_val, y_val)
    points = check_points(grid, base, n_features=math.prod(X.shape[1:]),
                          n_classes=len(np.unique(y)), data_dtype=X.dtype)
    with _connected(client, connect_timeout) as client:
        return _run(client, base, points, (X, y, X_val, y_val), callback)


def _run(client, base: dict, points: list[dict], data: tuple, callback) -> list[SweepResult]:
    import asyncio
    from concurrent.futures import CancelledError

    from distributed import as_completed

    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11 on
        raise TimeoutError(
            f"the Dask scheduler at {client.scheduler.address} has no workers after "
            f"{WORKER_TIMEOUT:.0f} s; start some with `dask worker {client.scheduler.address}`"
        ) from None
    # Load the estimator and its compiled kernels on every worker now, in parallel, so
    # that the first point of each worker does not count that second as fit time. A
    # worker that cannot (no fastmlp installed) fails each of its points with the reason.
    client.run(sweeptask.warm_up, {**base, **points[0]}, on_error="ignore")
    # broadcast: one copy per worker, sent once; tasks then find the data where they run
    # (a worker that joins later fetches it from a peer once, not per task). Keys of our
    # own, named after the sweep: no time spent hashing the data, cancelling them at the
    # end cannot touch the caller's own scatter of the same arrays, and the scheduler
    # (its dashboard) shows what they are.
    run = uuid.uuid4().hex[:8]
    names = [f"fastmlp-sweep-{run}-{name}" for name in ("X", "y", "X_val", "y_val")]
    scattered = client.scatter(dict(zip(names, data, strict=True)), broadcast=True)
    shared = [scattered[name] for name in names]
    futures = {
        client.submit(
            sweeptask.fit_point, {**base, **point}, *shared, key=f"fastmlp-sweep-{run}-{index}",
        ): index
        for index, point in enumerate(points)
    }
    results: list[SweepResult | None] = [None] * len(points)
    try:
        for future in as_completed(futures, loop=client.loop):
            index = futures[future]
            try:
                outcome = future.result()
            # the task itself catches the fit's errors; these are Dask's: a point that
            # killed its workers (KilledWorker), a task lost with the scheduler, ...
            except CancelledError as error:  # we cancel only after this loop
                raise _data_lost(error, results, client) from None
            except Exception as error:
                outcome = {"error": sweeptask.describe(error)}
            result = SweepResult(index=index, params=points[index], **outcome)
            results[index] = result
            if callback is not None:
                callback(result)
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        client.cancel(shared)
    return results


def _data_lost(error: BaseException, results: list, client) -> Exception:
    """The error of a sweep whose points Dask cancelled: the data they need is gone."""
    done = sum(result is not None for result in results)
    return SchedulerError(
        f"the sweep's data was lost from the Dask cluster at {client.scheduler.address}: the "
        f"workers that held it left (killed or crashed) after {done} of {len(results)} "
        f"points, and Dask cancelled the rest ({getattr(error, 'reason', error)}); run the "
        "sweep again on workers that stay up"
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value
