"""Probe: whole one-epoch fits with the first layer sent down each path.

    python benchmarks/first_layer_fits.py [--threads 1] [--rounds 5] [--input float32]

For each fit below (shuffled MNIST, 60,000 images, the best of 3 one-epoch fits
per fresh process, through ``benchmarks/worker.py``) it times the first layer's
paths: ``auto`` (the choice of ``fastmlp.engine.first_layer``), ``blocks``
([fastmlp.engine.narrow_first_layer][]), ``rows`` (the listing by rows,
[fastmlp.engine.sparse_first_layer][]) and ``blas``. Rounds are interleaved; it
prints samples/s (median and range) and each path's speed against ``auto``.
design.md's "First layer by blocks of rows" quotes a run. It measures a design
choice, not fastmlp against others; keep the machine otherwise idle.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchutil import cpu_model, interleaved, median_rows, run_worker  # noqa: E402

FITS = {
    "notebook net, batch 128": {"recipe": "notebook", "hidden": [16], "batch": 128},
    "notebook net, batch 1024": {"recipe": "notebook", "hidden": [16], "batch": 1024},
    "784-32-10 Adam, batch 128": {"recipe": "adam", "hidden": [32], "batch": 128},
    "784-128-10 Adam, batch 128": {"recipe": "adam", "hidden": [128], "batch": 128},
    "784-256-10 Adam, batch 128": {"recipe": "adam", "hidden": [256], "batch": 128},
}
PATHS = ("auto", "blocks", "rows", "blas")


def samples_per_second(fit: dict, path: str, input_type: str) -> float:
    spec = {"task": "epoch", "system": "fastmlp", "dtype": "float32", "input": input_type,
            "n_samples": 60000, "epochs": 3, **fit}
    if path != "auto":
        spec["first_layer"] = path
    result = run_worker(spec)
    return result["n_samples"] / min(result["epoch_seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="Numba threads (default 1)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--input", default="float32", choices=["float32", "uint8"])
    parser.add_argument("--paths", default=",".join(PATHS),
                        help="paths to time, comma-separated (default: all four)")
    args = parser.parse_args(argv)
    os.environ["NUMBA_NUM_THREADS"] = str(args.threads)  # the workers inherit it
    paths = args.paths.split(",")
    runs = [(name, path) for name in FITS for path in paths]
    results: dict[tuple, list[float]] = {run: [] for run in runs}
    for index in range(args.rounds):
        for name, path in interleaved(runs, index):
            results[name, path].append(samples_per_second(FITS[name], path, args.input))
    print(f"{cpu_model()}, {args.threads} thread(s), {args.input} input; "
          f"medians of {args.rounds} interleaved rounds")
    print("| fit | path | samples/s | range | vs auto |\n|---|---|---|---|---|")
    print("\n".join(median_rows(runs, results, "auto")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
