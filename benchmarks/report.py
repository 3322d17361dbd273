"""Turn a saved pytest-benchmark run into the throughput report.

    python benchmarks/report.py [--json FILE | --name NAME] [--out docs/benchmarks]

Reads the newest run saved under ``.benchmarks/`` (or the one given), prints the
tables and writes ``<out>/latest.md`` and ``<out>/throughput.png``. Every figure
is a median: samples/s = samples per timed call / median seconds. Speed-ups are
ratios of medians from the same run, so machine-wide noise mostly cancels.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STORAGE = REPO / ".benchmarks"
PEERS = ("PyTorch", "scikit-learn")
BASELINE = "naive baseline"
SYSTEM_ORDER = ("fastmlp", "PyTorch", "scikit-learn", BASELINE)


def find_run(storage: Path, name: str | None) -> Path:
    pattern = f"[0-9][0-9][0-9][0-9]_{name}.json" if name else "[0-9][0-9][0-9][0-9]_*.json"
    runs = sorted(storage.glob(f"*/{pattern}"), key=lambda p: p.stat().st_mtime)
    if not runs:
        sys.exit(f"no saved benchmark run matching {pattern} under {storage}; run nox -s bench")
    return runs[-1]


def si(x: float | None) -> str:
    if x is None:
        return "–"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.3g}"


def seconds(x: float) -> str:
    if x >= 1:
        return f"{x:.3g} s"
    if x >= 1e-3:
        return f"{x * 1e3:.3g} ms"
    return f"{x * 1e6:.3g} µs"


def ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.2f}×"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def load(path: Path) -> tuple[dict, list[dict]]:
    data = json.loads(path.read_text())
    results = []
    for bench in data["benchmarks"]:
        info = bench.get("extra_info", {})
        median = bench["stats"]["median"]
        n = info.get("n_samples")
        results.append({**info, "name": bench["name"], "median": median,
                        "iqr": bench["stats"]["iqr"], "rounds": bench["stats"]["rounds"],
                        "sps": n / median if n and median else None})
    return data, results


def throughput_section(results: list[dict], suite: str) -> tuple[str, list[dict]]:
    rows_in = [r for r in results if r.get("suite") == suite]
    if not rows_in:
        return "", []
    by_key = {(r["system"], r["network"], r["batch_size"], r["dtype"]): r for r in rows_in}
    peers = [p for p in PEERS if any(r["system"] == p for r in rows_in)]
    base = next((r for r in rows_in if r["system"] == BASELINE), None)

    def order(r):
        return (r["network"] != "784-16-10", r["network"], r["batch_size"],
                SYSTEM_ORDER.index(r["system"]) if r["system"] in SYSTEM_ORDER else 9, r["dtype"])

    header = ["system", "network", "batch", "dtype", "samples/s", "median", "samples", "rounds"]
    if suite == "epoch":
        header.append("× naive")
    header += [f"× {p}" for p in peers]
    rows = []
    for r in sorted(rows_in, key=order):
        row = [r["system"], r["network"], str(r["batch_size"]), r["dtype"], si(r["sps"]),
               seconds(r["median"]), f"{r['n_samples']:,}", str(r["rounds"])]
        if suite == "epoch":
            same_net = base is not None and base["network"] == r["network"]
            row.append(ratio(r["sps"], base["sps"]) if same_net and r is not base else "–")
        for p in peers:
            peer = by_key.get((p, r["network"], r["batch_size"], "float32"))
            mine = r["system"] == p or peer is None
            row.append("–" if mine else ratio(r["sps"], peer["sps"]))
        rows.append(row)
    return table(header, rows), rows_in


def kernel_section(results: list[dict]) -> str:
    pairs: dict[tuple, dict] = defaultdict(dict)
    for r in results:
        if r.get("suite") == "kernel":
            pairs[(r["kernel"], r["dtype"], r.get("shape", ""))][r["system"]] = r["median"]
    rows = []
    for (kernel, dtype, shape), t in sorted(pairs.items()):
        numba_t, numpy_t = t.get("numba"), t.get("numpy")
        rows.append([kernel, dtype, shape, seconds(numba_t) if numba_t else "–",
                     seconds(numpy_t) if numpy_t else "–", ratio(numpy_t, numba_t)])
    if not rows:
        return ""
    return table(["kernel", "dtype", "shape", "Numba", "NumPy", "Numba speed-up"], rows)


def other_section(results: list[dict]) -> str:
    lines = []
    for r in results:
        if r.get("suite") == "data":
            lines.append(f"- Warm `load_mnist()` from the cache (70,000 images): "
                         f"{seconds(r['median'])} median over {r['rounds']} rounds.")
        if r.get("suite") == "time_to_accuracy":
            status = ("reached" if r.get("reached")
                      else f"NOT reached within {r['max_epochs']} epochs")
            lines.append(
                f"- Time to {r['target']:.1%} MNIST test accuracy, default model (784-128-10 "
                f"ReLU, softmax, Adam 2e-3, batch 128, float32): {status}; "
                f"{r.get('train_seconds', float('nan')):.2f} s of training "
                f"({r.get('epochs')} epochs, test accuracy {r.get('accuracy', 0):.2%}); "
                f"{seconds(r['median'])} including scoring the test set after each epoch "
                f"(medians over {r['rounds']} runs)."
            )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed (pip install -e .[plot]): no figure written"
    networks = sorted({r["network"] for r in rows}, key=lambda n: int(n.split("-")[1]))
    fig, axes = plt.subplots(1, len(networks), figsize=(6 * len(networks), 4.5), squeeze=False)
    for ax, network in zip(axes[0], networks, strict=True):
        lines = defaultdict(list)
        for r in rows:
            if r["network"] == network and r["sps"]:
                lines[(r["system"], r["dtype"])].append((r["batch_size"], r["sps"]))
        for (system, dtype), points in sorted(
            lines.items(), key=lambda kv: (SYSTEM_ORDER.index(kv[0][0])
                                           if kv[0][0] in SYSTEM_ORDER else 9, kv[0][1])
        ):
            points.sort()
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o" if len(xs) > 1 else "*", markersize=6 if len(xs) > 1 else 12,
                    label=f"{system} {dtype}")
        ax.set_xscale("log", base=2)
        ticks = sorted({r["batch_size"] for r in rows})
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_ylabel("training samples/s (median)")
        ax.set_title(f"one epoch, {network}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="a saved run (default: the newest)")
    parser.add_argument("--storage", type=Path, default=STORAGE, help="pytest-benchmark storage")
    parser.add_argument("--name", help="newest saved run with this --benchmark-save name")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks")
    parser.add_argument("--command", default="nox -s bench", help="command quoted in the report")
    args = parser.parse_args(argv)

    path = (args.json or find_run(args.storage, args.name)).resolve()
    shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    data, results = load(path)
    info = data.get("machine_info", {})
    extra = info.get("fastmlp", {})
    threads = next((r for r in results if "blas_threads" in r), {})
    when = data.get("datetime") or datetime.now(timezone.utc).isoformat()
    commit = data.get("commit_info", {})

    epoch_table, epoch_rows = throughput_section(results, "epoch")
    step_table, _ = throughput_section(results, "step")
    kernels = kernel_section(results)
    other = other_section(results)

    header = "\n".join([
        "# fastmlp benchmarks: latest run",
        "",
        f"- Date: {when[:19].replace('T', ' ')} UTC",
        f"- Machine: {extra.get('cores', os.cpu_count())} cores, "
        f"{extra.get('cpu_model') or info.get('cpu', {}).get('brand_raw', 'unknown CPU')}",
        f"- BLAS: {extra.get('blas', 'unknown')}",
        f"- Threads: BLAS {threads.get('blas_threads', extra.get('blas_threads'))}, "
        f"Numba {threads.get('numba_threads', extra.get('numba_threads'))}"
        + (f", PyTorch {t}" if (t := next((r.get('torch_threads') for r in results
                                            if r.get('torch_threads')), None)) else ""),
        f"- Python {info.get('python_version', platform.python_version())}, NumPy "
        f"{extra.get('numpy_version', '?')}, Numba {extra.get('numba_version', '?')}"
        + "".join(f", {r['system']} {r['version']}" for r in
                  {r["system"]: r for r in results if r.get("version")}.values()),
        f"- Commit: {commit.get('id', '?')[:12]}{' (dirty tree)' if commit.get('dirty') else ''}",
        f"- Command: `{args.command}` (raw results: `{shown}`)",
    ])
    notes = (
        "All figures are medians over the rounds shown; samples/s = samples per timed call / "
        "median. Speed-ups are ratios of medians within this one run. The machine may be "
        "shared: compare ratios, not absolute figures, across runs.\n\n"
        "Epoch = one `fit(max_iter=1)` over the 60,000 uint8 MNIST training images (the "
        "notebook model: logistic hidden and output, squared error, SGD 0.01, no momentum), "
        "or over the first `samples` images where that column says fewer (the naive "
        "float64 NumPy loop, and the slow peer configurations). scikit-learn has no "
        "squared-error classifier: it trains softmax + log-loss, the same FLOP shape. "
        "PyTorch: eager, sigmoid, squared error summed over outputs, `torch.optim.SGD`. "
        "× columns: this row's samples/s over that system's (float32, same network and "
        "batch; naive: the notebook network only)."
    )
    sections = [header, "", notes, ""]
    if epoch_table:
        sections += ["## Training throughput: one epoch", "", epoch_table, "",
                     "![throughput vs batch size](throughput.png)", ""]
    if step_table:
        sections += ["## One optimizer step (mini-batch engine, no estimator)", "",
                     step_table, ""]
    if other:
        sections += ["## Data and time to accuracy", "", other, ""]
    if kernels:
        sections += ["## Kernels: Numba vs plain NumPy on the same arrays", "", kernels, ""]
    markdown = "\n".join(sections)
    print(markdown)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(markdown)
    print(f"\nwrote {args.out / 'latest.md'}")
    if epoch_rows:
        problem = plot(epoch_rows, args.out / "throughput.png")
        print(problem or f"wrote {args.out / 'throughput.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
