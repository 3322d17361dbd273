"""Measure the figures of the "Sweeps and clusters" page: sweep against loop, and a report.

Run from the repository root, on a quiet machine, to regenerate them::

    python docs/scripts/sweep_overhead.py              # both sections
    python docs/scripts/sweep_overhead.py overhead     # one of them

``overhead``: 16 one-epoch fits of the default preset on MNIST (hidden 64 or 128,
learning rate 1e-3 or 3e-3, seeds 0 to 3; trained on the first 50,000 training
images, scored on the last 10,000), run three ways, each in a fresh process:
``fastmlp.sweep`` on an embedded cluster of 2 single-threaded workers, and a
plain loop in one process with one BLAS/Numba thread and with the default
threads. Rounds are interleaved (A B C, C B A, A B C, ...); the table gives
medians and the min-max over the rounds. Definitions, all from the second sweep
on the running cluster (the first one, which also loads the kernels in the new
worker processes, gives "all-in" together with the cluster's start and stop):

- fit: ``SweepResult.seconds``, the wall time of ``fit`` inside the task;
- task: Dask's compute time of the task (fit, then scoring the validation set);
- overhead per point: (sweep wall x workers - sum of fit seconds) / points,
  everything a worker spends not fitting (scoring, Dask, moving data and
  models, idle time at the end of the sweep);
- scheduling per point: the same with task seconds in place of fit seconds,
  what Dask and the data movement cost on top of the work itself.

Both overheads are also given as a share of the mean one-epoch fit of the points.

``report``: runs the guide's first ``fastmlp sweep`` command on 2 workers and keeps its output.

Each section writes ``docs/_snippets/sweep_<section>.md``, with a caption naming
the date, the machine, the command and the load average before and after; the
page includes them as they are. The machine's load changes the times (the
fits share 2 cores with whatever else runs), not the accuracies.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import snippets  # docs/scripts/snippets.py, beside this script

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
GRID = {"hidden_layer_sizes": [(64,), (128,)], "learning_rate_init": [1e-3, 3e-3],
        "random_state": [0, 1, 2, 3]}
SYSTEMS = ("sweep", "loop-1-thread", "loop-default-threads")
REPORT_ARGV = ["sweep", "--grid", "hidden_layer_sizes=16,64,128",
               "--grid", "learning_rate_init=3e-3,1e-2", "--workers", str(WORKERS)]


def _write(section: str, body: str, command: str, load_before: str, note: str) -> None:
    snippets.write(f"sweep_{section}", body, command, load_before, note)


# -- the child processes: one system each --------------------------------------------


def _data():
    from fastmlp import load_mnist
    from fastmlp.sweeps import validation_split

    (x_train, y_train), _ = load_mnist()
    return x_train, y_train, validation_split(x_train, y_train)


def _base() -> dict:
    from fastmlp.presets import PRESETS

    return dict(PRESETS["default"], max_iter=1)


def _child_sweep() -> dict:
    from distributed import get_task_stream

    import fastmlp
    from fastmlp.sweeps import local_client

    x_train, y_train, _ = _data()
    timings = {}
    started = time.perf_counter()
    with local_client(WORKERS) as client:
        timings["cluster_start"] = time.perf_counter() - started
        began = time.perf_counter()
        fastmlp.sweep(GRID, x_train, y_train, params=_base(), client=client)
        timings["first_sweep"] = time.perf_counter() - began
        with get_task_stream(client=client) as stream:
            # wall-clock time, to compare with the task stream's (one machine, one clock)
            began = time.time()
            results = fastmlp.sweep(GRID, x_train, y_train, params=_base(), client=client)
            ended = time.time()
        closing = time.perf_counter()
    timings["cluster_stop"] = time.perf_counter() - closing
    assert all(result.ok for result in results), [result.error for result in results]
    # each worker's compute steps, in order: the time between them is Dask's
    steps: dict[str, list[tuple[float, float]]] = {}
    for task in stream.data:
        if str(task["key"]).startswith("fastmlp-sweep"):
            steps.setdefault(task["worker"], []).extend(
                (step["start"], step["stop"]) for step in task["startstops"]
                if step["action"] == "compute")
    spans = sorted(span for worker in steps.values() for span in worker)
    assert len(spans) == len(results), (len(spans), len(results))
    gaps = [later[0] - earlier[1] for worker in steps.values()
            for earlier, later in zip(sorted(worker), sorted(worker)[1:], strict=False)]
    fits = [result.seconds for result in results]
    return {
        "wall": ended - began, "all_in": timings["cluster_start"] + timings["first_sweep"]
        + timings["cluster_stop"], **timings,
        "fit_sum": sum(fits), "task_sum": sum(stop - start for start, stop in spans),
        "setup": min(start for start, _ in spans) - began,
        "gap_mean": sum(gaps) / len(gaps) if gaps else 0.0,
        "end": ended - max(stop for _, stop in spans),
        "points": len(results), "workers": len(steps),
        "accuracies": [result.validation_accuracy for result in results],
    }


def _child_loop(threads: int | None) -> dict:
    import numba
    from threadpoolctl import threadpool_limits

    from fastmlp import MLPClassifier
    from fastmlp.exceptions import ConvergenceWarning
    from fastmlp.sweeps import check_points

    _, _, (X, y, X_val, y_val) = _data()
    points = check_points(GRID, _base())  # loads the kernels, as the sweep's warm-up does
    if threads is not None:
        numba.set_num_threads(threads)
    fits, accuracies = [], []
    with threadpool_limits(limits=threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        began = time.perf_counter()
        for point in points:
            model = MLPClassifier(**{**_base(), **point})
            fit_started = time.perf_counter()
            model.fit(X, y)
            fits.append(time.perf_counter() - fit_started)
            accuracies.append(float(model.score(X_val, y_val)))
        wall = time.perf_counter() - began
    return {"wall": wall, "fit_sum": sum(fits), "points": len(points),
            "accuracies": accuracies}


def child(system: str) -> None:
    if system == "sweep":
        result = _child_sweep()
    else:
        result = _child_loop(1 if system == "loop-1-thread" else None)
    print(json.dumps(result))


# -- the sections ---------------------------------------------------------------------


def _run_child(system: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", system], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _spread(values: list[float], fmt: str) -> str:
    return (f"{format(statistics.median(values), fmt)} "
            f"({format(min(values), fmt)}-{format(max(values), fmt)})")


def _derived(sweep: dict, loop1: dict, loop2: dict) -> dict:
    """One round's figures, from its three runs (the definitions: the module's docstring)."""
    points, fit = sweep["points"], sweep["fit_sum"] / sweep["points"]
    overhead = (sweep["wall"] * WORKERS - sweep["fit_sum"]) / points
    scheduling = (sweep["wall"] * WORKERS - sweep["task_sum"]) / points
    return {
        "sweep_wall": sweep["wall"], "all_in": sweep["all_in"],
        "loop1_wall": loop1["wall"], "loop2_wall": loop2["wall"],
        "speedup1": loop1["wall"] / sweep["wall"], "speedup2": loop2["wall"] / sweep["wall"],
        "fit": fit, "loop1_fit": loop1["fit_sum"] / loop1["points"],
        "overhead": overhead, "overhead_share": overhead / fit,
        "scheduling": scheduling, "scheduling_share": scheduling / fit,
        "setup": sweep["setup"], "gap": sweep["gap_mean"],
        "in_task": (sweep["task_sum"] - sweep["fit_sum"]) / points,
    }


def overhead(args) -> None:
    """The sweep on 2 workers against a loop of the same fits; the overhead per point."""
    load = snippets.load()
    runs: dict[str, list[dict]] = {system: [] for system in SYSTEMS}
    for round_ in range(args.rounds):
        order = SYSTEMS if round_ % 2 == 0 else tuple(reversed(SYSTEMS))
        for system in order:
            runs[system].append(_run_child(system))
            print(system, json.dumps(runs[system][-1]), flush=True)
    # the same fits: on one thread, the loop's accuracies equal the sweep's, point by point
    # (more BLAS threads may sum in another order: equal to rounding, not bit for bit)
    assert runs["loop-1-thread"][0]["accuracies"] == runs["sweep"][0]["accuracies"]
    rounds = [_derived(*one) for one in zip(*(runs[system] for system in SYSTEMS), strict=True)]

    def row(label: str, name: str, scale: float, fmt: str, unit: str) -> str:
        return f"| {label} | {_spread([scale * r[name] for r in rounds], fmt)}{unit} |"

    points = runs["sweep"][0]["points"]
    rows = [
        "| measure | median (min-max) |", "|---|---:|",
        row("sweep, 2 workers, on a running cluster: wall", "sweep_wall", 1, ".2f", " s"),
        row("sweep, 2 workers, all-in (cluster start, first sweep, stop)", "all_in", 1, ".2f",
            " s"),
        row("loop in one process, 1 thread: wall", "loop1_wall", 1, ".2f", " s"),
        row("loop in one process, default threads: wall", "loop2_wall", 1, ".2f", " s"),
        row("speed-up of the sweep (running cluster) over the 1-thread loop", "speedup1", 1,
            ".2f", "x"),
        row("speed-up of the sweep (running cluster) over the default-threads loop",
            "speedup2", 1, ".2f", "x"),
        row(f"one-epoch fit in a sweep task (mean of the {points} points)", "fit", 1000, ".0f",
            " ms"),
        row("one-epoch fit in the 1-thread loop (mean)", "loop1_fit", 1000, ".0f", " ms"),
        row("overhead per point: all but the fit (scoring, Dask, idle end)", "overhead", 1000,
            ".1f", " ms"),
        row("the same as a share of a one-epoch fit", "overhead_share", 100, ".1f", " %"),
        row("scheduling per point: all but the task (Dask, data, idle end)", "scheduling",
            1000, ".1f", " ms"),
        row("the same as a share of a one-epoch fit", "scheduling_share", 100, ".1f", " %"),
        row("of which: before the first task (checks, warm-up, data to the workers)", "setup",
            1000, ".0f", " ms once"),
        row("of which: between two tasks of a worker", "gap", 1000, ".1f", " ms per task"),
        row("in a task, besides the fit (scoring the 10,000 validation images)", "in_task",
            1000, ".0f", " ms per task"),
    ]
    _write("overhead", "\n".join(rows), "python docs/scripts/sweep_overhead.py overhead", load,
           f"{points} one-epoch fits of the default preset on MNIST (hidden 64 or 128, "
           "learning rate 1e-3 or 3e-3, seeds 0-3; 50,000 training images, 10,000 "
           f"validation), each system in a fresh process, {args.rounds} interleaved rounds; "
           "the definitions are in the script's docstring.")


def report(args) -> None:
    """The guide's first command on 2 workers: its output as printed."""
    load = snippets.load()
    out = subprocess.run([sys.executable, "-m", "fastmlp.cli", *REPORT_ARGV], check=True,
                         capture_output=True, text=True).stdout
    command = "fastmlp " + " ".join(REPORT_ARGV)
    _write("report", f"```text\n$ {command}\n{out.rstrip()}\n```",
           "python docs/scripts/sweep_overhead.py report", load,
           f"the default preset ({_preset_epochs()} epochs per point) on MNIST.")


def _preset_epochs() -> int:
    from fastmlp.presets import PRESETS

    return PRESETS["default"]["max_iter"]


SECTIONS = {"overhead": overhead, "report": report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"what to measure, of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--child", choices=SYSTEMS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
    for section in args.sections or list(SECTIONS):
        SECTIONS[section](args)


if __name__ == "__main__":
    main()
