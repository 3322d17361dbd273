"""Fuzz model files and parsed-cache headers, and print how every mutation loaded.

Each model-file mutation (a byte changed, inserted, deleted or cut mostly inside
the ``.npy`` headers, or a member renamed bare, duplicated, added, swapped or
deflated) must load equal to the saved model or raise one ``ModelFileError``;
each cache-header mutation must be passed over (the loader parses the raw file
again) or load equal. Nothing else may happen: no other exception, no altered
content. Run from the checkout's root::

    nice -n 19 python benchmarks/fuzz_files.py --models 2000 --cache 5000

Exits 1 if any case raised another exception or loaded altered content.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's fastmlp, the fuzz helpers

import numpy as np  # noqa: E402
from filefuzz import Tally, fuzz_cache, fuzz_models  # noqa: E402

import fastmlp  # noqa: E402


def _models() -> list:
    """Two small fitted models: Adam with integer labels, SGD with string labels."""
    rng = np.random.default_rng(0)
    X = rng.random((200, 10)).astype(np.float32)
    y = (X[:, 0] * 3).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adam = fastmlp.MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=3, random_state=0)
        sgd = fastmlp.MLPClassifier(hidden_layer_sizes=(12,), solver="sgd", max_iter=3,
                                    random_state=0, dtype="float64")
        return [adam.fit(X, y), sgd.fit(X, np.array(["a", "b", "c"])[y])]


def _report(name: str, tally: Tally) -> None:
    counts = tally.counts
    print(f"{name}: {tally.total} mutations: {counts['correct']} correct loads, "
          f"{counts['refused']} clear refusals, {counts['other']} other exceptions, "
          f"{counts['altered']} loads of altered content; slowest case {tally.slowest:.3f} s")
    for outcome, example in tally.examples.items():
        print(f"  first {outcome}: {example}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=2000, help="model-file mutations")
    parser.add_argument("--cache", type=int, default=5000, help="cache-header mutations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--saved", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.saved is None:
        # Fit and save here, fuzz in a fresh process: its peak memory is that of loading
        # (and importing), not of compiling the training kernels.
        with tempfile.TemporaryDirectory() as folder:
            for index, model in enumerate(_models()):
                model.save(Path(folder) / f"original{index}.npz")
            command = [sys.executable, __file__, *(argv or sys.argv[1:]), "--saved", folder]
            return subprocess.run(command, check=False).returncode
    models = [fastmlp.load(path) for path in sorted(Path(args.saved).glob("original*.npz"))]
    model_tally, cache_tally = Tally(), Tally()
    with tempfile.TemporaryDirectory() as folder:
        for index, model in enumerate(models):
            share = args.models // len(models) + (index < args.models % len(models))
            fuzz_models(model, Path(folder), share, args.seed + index, model_tally)
        fuzz_cache(Path(folder) / "cache", args.cache, args.seed, cache_tally)
    _report("model files", model_tally)
    _report("cache headers", cache_tally)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak RSS of the fuzzing process (imports included): {peak:.0f} MiB")
    bad = sum(t.counts["other"] + t.counts["altered"] for t in (model_tally, cache_tally))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
