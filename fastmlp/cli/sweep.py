"""``fastmlp sweep``: a grid of fits on a Dask cluster ([fastmlp.sweeps][fastmlp.sweeps]),
from the command line's ``--grid NAME=V1,V2`` text to the ranked table, CSV and plot."""

import argparse
import functools
import json
import math
import time
import types
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fastmlp import grids
from fastmlp.cli import common, plots
from fastmlp.exceptions import CommandError
from fastmlp.presets import PRESETS

LAYER_SEPARATOR = "x"
"""Separates layer sizes on the command line: ``256x128`` is ``hidden_layer_sizes=(256, 128)``."""

NOT_SWEEPABLE = ("callbacks",)
"""Estimator parameters that cannot take values from the command line."""


def add_parser(commands) -> None:
    """The ``sweep`` subcommand's options."""
    sweep = commands.add_parser(
        "sweep", help="fit a grid of hyper-parameters on a Dask cluster and rank the points",
        description="Fit one model per grid point on a Dask cluster (an embedded one by "
        "default), rank the points by accuracy on the last 10,000 training images, then "
        "report the best point's test accuracy, measured once.",
    )
    sweep.add_argument(
        "--grid", action="append", required=True, metavar="NAME=V1,V2,...",
        help="a parameter of MLPClassifier and its values, e.g. hidden_layer_sizes=16,256x128 "
        "(256x128: two hidden layers) or learning_rate_init=1e-3,3e-3; repeat for more "
        "parameters (every combination is fitted)",
    )
    sweep.add_argument("--preset", choices=sorted(PRESETS), default="default",
                       help="parameters shared by all points; the grid overrides them")
    sweep.add_argument("--epochs", type=int, help="number of epochs (max_iter) of every point")
    sweep.add_argument("--seed", type=int, default=0,
                       help="random_state of every point (default 0; sweep it with --grid)")
    sweep.add_argument("--dataset", default="mnist", choices=common.dataset_names(),
                       help="built-in data set to train, validate and test on (default: mnist)")
    cluster = sweep.add_mutually_exclusive_group()
    cluster.add_argument("--scheduler", metavar="ADDRESS",
                         help="Dask scheduler to run on, e.g. tcp://10.0.0.1:8786 "
                         "(default: an embedded cluster on this machine)")
    cluster.add_argument("--workers", type=int, metavar="N",
                         help="worker processes of the embedded cluster (default: one per core)")
    sweep.add_argument("--connect-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="seconds to connect to --scheduler and hear its handshake "
                       "before giving up (default: 30)")
    sweep.add_argument("--out", metavar="FILE", help="write the ranked results to FILE as CSV")
    common.add_plot_option(sweep, "validation accuracy against each swept parameter")
    common.add_report_and_data_options(sweep)


def run(args: argparse.Namespace) -> int:
    """Check the flags and the grid, fit every point on the cluster, rank and report."""
    from tqdm.auto import tqdm

    from fastmlp import sweeps
    from fastmlp.datasets import load_dataset

    grid, params, points = checked(args)
    # the cluster first: an unreachable scheduler fails before the data loads, and an
    # embedded cluster's workers start while it does
    with _sweep_client(args) as client:
        (x_train, y_train), test = load_dataset(
            args.dataset, data_home=args.data_home, mirror=args.mirror
        )
        progress = tqdm(total=len(points), unit="point", desc=f"sweep on {args.dataset}",
                        disable=None, leave=False)
        started = time.perf_counter()
        results = sweeps.sweep(grid, x_train, y_train, params=params, client=client,
                               callback=lambda result: progress.update())
        seconds = time.perf_counter() - started
        progress.close()
    report(args, results, list(grid), seconds, len(x_train), test)
    return 0


def checked(args: argparse.Namespace) -> tuple[dict, dict, list]:
    """The grid, the shared parameters and the points, every flag checked before the data
    is loaded or a cluster starts: the cheap flags first, the grid on its description
    before any point exists."""
    import importlib.util

    from fastmlp import extras, sweeps

    if importlib.util.find_spec("distributed") is None:
        raise CommandError(extras.missing_message("distributed", "fastmlp sweep"))
    if args.workers is not None and args.workers < 1:
        raise CommandError(f"--workers must be at least 1; got {args.workers}.")
    if not args.connect_timeout > 0:
        raise CommandError(f"--connect-timeout must be > 0 seconds; got {args.connect_timeout}.")
    grid = parse_grid(args.grid)
    params = dict(PRESETS[args.preset], random_state=args.seed)
    if args.epochs is not None:
        params["max_iter"] = args.epochs
    points = sweeps.check_points(grid, params, n_features=common.DATASET_FEATURES,
                                 n_classes=common.DATASET_CLASSES, data_dtype=np.uint8)
    if args.out:
        common.check_output_path("--out", args.out)
    if args.plot:
        common.check_plot_path(args.plot)
    return grid, params, points


def report(args, results, names: list[str], seconds: float, n_train: int, test) -> None:
    """The CSV and plot asked for, the best point's test accuracy, and the table or JSON."""
    from fastmlp import sweeps

    x_test, y_test = test
    ranking = sweeps.ranked(results)
    if args.out:
        _write_sweep_csv(args.out, ranking, names)
    if args.plot:
        plots.plot_sweep(args.plot, results, names, args.dataset, _sweep_value)
    best = sweeps.best(results)  # ValueError, exit 1, if every point failed
    test_accuracy = best.model.score(x_test, y_test)  # the test set's only use
    n_val = sweeps.default_validation_size(n_train)
    workers = sorted({result.worker for result in results if result.worker})
    if args.json:
        print(json.dumps({
            "command": "sweep", "dataset": args.dataset, "preset": args.preset,
            "results": [result.to_dict() for result in ranking], "best": best.to_dict(),
            "test_accuracy": test_accuracy, "n_validation": n_val, "n_test": len(y_test),
            "seconds": seconds, "workers": workers, "out": args.out, "plot": args.plot,
        }))
        return
    print(_format_sweep_table(ranking, names))
    failed = sum(not result.ok for result in results)
    print()
    print(f"points       {len(results)} ({failed} failed) on {len(workers)} workers "
          f"in {seconds:.1f} s")
    print(f"best         {_format_point(best.params)}")
    print(f"validation   {best.validation_accuracy:.4f} on the last {n_val} training images")
    print(f"test         {test_accuracy:.4f} on the {len(y_test)} test images "
          "(best point only, measured once)")
    if args.out:
        print(f"results      {args.out}")
    if args.plot:
        print(f"plot         {args.plot}")


def _sweep_client(args: argparse.Namespace):
    """A client of the cluster at --scheduler, or of an embedded one with --workers processes."""
    from fastmlp import sweeps

    if not args.scheduler:
        return sweeps.local_client(args.workers)
    from fastmlp import cluster

    try:
        return cluster.connect(args.scheduler, args.connect_timeout)
    except (ValueError, OSError) as error:
        raise CommandError(
            f"--scheduler: {error} (or leave out --scheduler to run on this machine)."
        ) from None


def _sweep_value(value) -> str:

    if isinstance(value, tuple):
        return LAYER_SEPARATOR.join(str(size) for size in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _format_point(params: dict) -> str:
    return " ".join(f"{name}={_sweep_value(value)}" for name, value in params.items())


def _format_sweep_table(ranking, names: list[str]) -> str:
    header = ["rank", *names, "validation", "fit s", "samples/s", "worker"]
    rows = []
    for rank, result in enumerate(ranking, start=1):
        values = [str(rank), *(_sweep_value(result.params[name]) for name in names)]
        if result.ok:
            rate = "-" if result.samples_per_s is None else f"{result.samples_per_s:,.0f}"
            values += [f"{result.validation_accuracy:.4f}", f"{result.seconds:.2f}", rate,
                       result.worker or "-"]
        else:
            values += ["failed", "", "", result.error]
        rows.append(values)
    # the last column (worker, or the error) is left unpadded
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.rjust(width) if i == 0 or i > len(names) else cell.ljust(width)
                 for i, (cell, width) in enumerate(zip(row, widths, strict=False))]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


def _write_sweep_csv(path: str, ranking, names: list[str]) -> None:
    import csv
    import io

    from fastmlp.atomic import atomic_write

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([*names, "validation_accuracy", "seconds", "samples_per_s", "epochs",
                     "final_loss", "worker", "error"])
    for result in ranking:
        writer.writerow([
            *(_sweep_value(result.params[name]) for name in names),
            result.validation_accuracy, result.seconds, result.samples_per_s,
            len(result.loss_curve), result.loss_curve[-1] if result.loss_curve else None,
            result.worker, result.error,
        ])
    with atomic_write(path) as file:
        file.write(text.getvalue().encode())


# -- the grid as typed ---------------------------------------------------------------------


def parse_grid(specs: Sequence[str]) -> dict[str, list]:
    """A grid from command-line strings ``"name=value,value,..."``.

    Each value is parsed by the parameter's type: integers, floats,
    ``true``/``false``, strings as they are, ``none`` where None is allowed,
    and layer sizes as ``256x128`` (two hidden layers) or ``64``.

    Parameters
    ----------
    specs : sequence of str
        For example ``["hidden_layer_sizes=16,64x32", "learning_rate_init=1e-3,3e-3"]``.

    Returns
    -------
    dict
        Parameter name to the list of parsed values.

    Raises
    ------
    ValueError
        A spec without ``=``, a name given twice or unknown (the message lists
        the allowed names), a value that does not parse as the parameter's type,
        or more than ``grids.MAX_POINTS`` points (counted before any is parsed).
    """
    texts: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        name = name.strip()
        if not sep or not name or not text.strip():
            raise ValueError(
                f"--grid {spec!r}: expected NAME=VALUE[,VALUE...], e.g. "
                "hidden_layer_sizes=16,64 or learning_rate_init=1e-3,3e-3"
            )
        if name in texts:
            raise ValueError(f"--grid {name} is given twice; list all its values in one --grid")
        texts[name] = text.split(",")
    grids.check_count(math.prod(len(items) for items in texts.values()))  # before parsing
    return {name: [parse_value(name, item.strip()) for item in items]
            for name, items in texts.items()}


def parse_value(name: str, text: str) -> Any:
    """One command-line value of estimator parameter ``name``, parsed by its type.

    The type is read off ``MLPClassifier``'s default for the parameter, with
    ``hidden_layer_sizes``, ``batch_size`` (``auto`` or an integer),
    ``random_state`` and ``dtype`` (each may be ``none``) handled by name.

    Parameters
    ----------
    name : str
        A parameter of ``MLPClassifier``.
    text : str
        The value as typed.

    Returns
    -------
    object
        The value ``MLPClassifier`` takes.

    Raises
    ------
    ValueError
        If ``name`` is unknown (the message lists the allowed names) or ``text`` does not parse.
    """

    defaults = _estimator_defaults()
    allowed = sorted(set(defaults) - set(NOT_SWEEPABLE))
    if name not in allowed:
        hint = " (it cannot be set from the command line)" if name in NOT_SWEEPABLE else ""
        raise ValueError(
            f"unknown parameter {name!r}{hint}; the parameters that can be swept are: "
            f"{', '.join(allowed)}"
        )
    lowered = text.lower()
    try:
        if name == "hidden_layer_sizes":
            return tuple(int(size) for size in lowered.split(LAYER_SEPARATOR))
        if name == "batch_size" and lowered == "auto":
            return "auto"
        if name in ("random_state", "dtype") and lowered == "none":
            return None
        if name in ("batch_size", "random_state"):
            return int(text)
        if name == "dtype":
            return text
        default = defaults[name]
        if isinstance(default, bool):
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        return text
    except ValueError:
        raise ValueError(
            f"--grid {name}: cannot read {text!r} as {_type_name(name, defaults[name])}"
        ) from None


def _type_name(name: str, default: Any) -> str:

    if name == "hidden_layer_sizes":
        return f"layer sizes such as 128 or 256{LAYER_SEPARATOR}128"
    if name == "batch_size":
        return "an integer or auto"
    if name == "random_state":
        return "an integer or none"
    if isinstance(default, bool):
        return "true or false"
    return {int: "an integer", float: "a number"}.get(type(default), "a string")


@functools.cache
def _estimator_defaults() -> Mapping[str, Any]:
    from fastmlp import MLPClassifier

    # read once: a grid of thousands of values would otherwise inspect the signature per value
    return types.MappingProxyType(MLPClassifier().get_params())
