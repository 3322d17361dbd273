"""How fastmlp's training scales with threads, on a quiet machine or a shared one.

    python benchmarks/scaling.py [--threads 1,2,4,8] [--rounds 3] [--load N] [--batch B]

Trains two one-epoch fits on the 60,000 MNIST training images: the notebook net
(784-16-10, SGD) at batch 1024 and the default net (784-128-10 ReLU, Adam) at
batch 128, float32 input. Each thread count runs in a fresh process of its own
(``NUMBA_NUM_THREADS``), through ``benchmarks/worker.py``; rounds are
interleaved. It prints samples/s (median and range) and the speed-up over one
thread, with the CPU and the number of cores. ``--load N`` keeps N busy-loop
processes running meanwhile, as on a machine whose cores are shared;
``--batch B`` trains both fits at batch B instead (how scaling grows with the
work per batch). Needs
MNIST where ``load_mnist()`` finds it (``FASTMLP_DATA_DIR``, ``FASTMLP_MIRROR``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchutil import WORKER, cpu_model, interleaved, median_rows  # noqa: E402

FITS = {
    "notebook net, batch 1024": {"recipe": "notebook", "hidden": [16], "batch": 1024},
    "784-128-10 Adam, batch 128": {"recipe": "adam", "hidden": [128], "batch": 128},
}


def samples_per_second(fit: dict, n_threads: int) -> float:
    """One fresh process: the best of 3 one-epoch fits on 60,000 images."""
    spec = {"task": "epoch", "system": "fastmlp", "dtype": "float32", "input": "float32",
            "n_samples": 60000, "epochs": 3, **fit}
    env = {**os.environ, "NUMBA_NUM_THREADS": str(n_threads)}
    done = subprocess.run([sys.executable, str(WORKER), json.dumps(spec)], env=env,
                          capture_output=True, text=True, timeout=900, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["n_samples"] / min(result["epoch_seconds"])


def busy_loops(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default=f"1,{os.cpu_count() or 1}",
                        help="thread counts, comma-separated (default: 1 and all cores)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--load", type=int, default=0,
                        help="busy-loop processes running meanwhile (default 0)")
    parser.add_argument("--batch", type=int, default=None,
                        help="batch size of both fits (default: 1024 and 128)")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.threads.split(",")]
    fits = {name: fit if args.batch is None else dict(fit, batch=args.batch)
            for name, fit in FITS.items()}
    if args.batch is not None:
        fits = {name.split(", batch")[0] + f", batch {args.batch}": fit
                for name, fit in fits.items()}
    runs = [(name, n) for name in fits for n in counts]
    results: dict[tuple, list[float]] = {run: [] for run in runs}
    loops = busy_loops(args.load)
    try:
        for index in range(args.rounds):
            for name, n in interleaved(runs, index):
                results[name, n].append(samples_per_second(fits[name], n))
    finally:
        for loop in loops:
            loop.kill()
    print(f"{cpu_model()}, {os.cpu_count()} cores; {args.load} busy-loop processes; "
          f"medians of {args.rounds} interleaved rounds")
    print("| fit | threads | samples/s | range | vs 1 thread |\n|---|---|---|---|---|")
    print("\n".join(median_rows(runs, results, counts[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
