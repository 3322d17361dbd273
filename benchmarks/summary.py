"""The summary that opens each CPU's section of the benchmark report.

Answer first: the CPU, a chart of samples/s against batch size per system, and
fastmlp's ratio to each peer, one row per network and batch. The full table
and the method follow it (``report.py``). A peer that cannot run some rows is
one line under the table, not a row of dashes per configuration.
"""

from __future__ import annotations

from pathlib import Path

from benchutil import FASTMLP, JAX, NAIVE, PYTORCH, SKLEARN, TORCH_COMPILE

EXTENSION_NAMES = {"sse4_2": "SSE4.2", "avx": "AVX", "avx2": "AVX2", "fma": "FMA",
                   "avx512f": "AVX-512F", "avx512bw": "AVX-512BW", "avx512vl": "AVX-512VL",
                   "avx512_vnni": "AVX-512 VNNI", "avx512_bf16": "AVX-512 BF16",
                   "amx_tile": "AMX", "asimd": "NEON", "sve": "SVE", "sve2": "SVE2"}
HEADLINE = ("float32", "float32")  # (maths dtype, input) of the summary's chart and ratios
PEERS = ((JAX, "× JAX"), (TORCH_COMPILE, "× torch.compile"), (PYTORCH, "× PyTorch"),
         (SKLEARN, "× scikit-learn"))


def cpu_text(cpu: dict) -> str:
    """'AMD EPYC, 2 cores; vector extensions AVX2, FMA, ...' from a run's CPU facts."""
    cores = f", {cpu['cores']} cores" if cpu.get("cores") else ""
    extensions = cpu.get("vector_extensions")
    if extensions is None:
        vector = "vector extensions not recorded by this run"
    else:
        vector = "vector extensions " + (", ".join(EXTENSION_NAMES.get(e, e) for e in extensions)
                                         or "none of SSE4.2, AVX, NEON")
    return f"{cpu['model']}{cores}; {vector}"


def ratio(a: float | None, b: float | None) -> str:
    """a / b to 3 significant digits, as precise as the rounds agree."""
    if not a or not b:
        return "–"
    return f"{a / b:.0f}×" if a / b >= 100 else f"{a / b:#.3g}×"


def ratio_table(rows: list[dict]) -> str:
    """fastmlp's samples/s over each peer's: rows network and batch, columns the peers."""
    dtype, input_type = HEADLINE
    median = {(r["system"], r["network"], r["batch"]): r["median"] for r in rows
              if r["dtype"] == dtype and r["input"] == input_type and r["median"]}
    naive = max((r["median"] for r in rows if r["system"] in NAIVE and r["median"]
                 and r["input"] == input_type), default=None)
    lines = ["| network | batch | fastmlp | " + " | ".join(c for _, c in PEERS)
             + " | × naive loop |", "|---|---|---|" + "---|" * (len(PEERS) + 1)]
    for system, network, batch in sorted(median, key=lambda k: (len(k[1]), k[1], k[2])):
        if system != FASTMLP:
            continue
        mine = median[(system, network, batch)]
        cells = [ratio(mine, median.get((peer, network, batch))) for peer, _ in PEERS]
        cells.append(ratio(mine, naive) if network == "784-16-10" else "–")
        lines.append(f"| {network} | {batch} | {si(mine)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def not_run_lines(rows: list[dict]) -> list[str]:
    """One line per peer and reason for the rows it cannot run, naming what they share."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        if r["skipped"]:
            groups.setdefault((r["system"], r["skipped"]), []).append(r)
    lines = []
    for (system, reason), skipped in groups.items():
        words = {"input": "{} input", "dtype": "{} maths", "network": "{}", "batch": "batch {}"}
        shared = [form.format(skipped[0][key]) for key, form in words.items()
                  if len({str(r[key]) for r in skipped}) == 1]
        which = f"the {' '.join(shared)} rows" if shared else "some rows"
        lines.append(f"- {system} does not run {which} ({len(skipped)}): {reason}.")
    return lines


def si(x: float | None) -> str:
    if x is None:
        return "–"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.3g}"


def plot(rows: list[dict], path: Path, title: str) -> str | None:
    """samples/s against batch size of the notebook net, one line per system, float32."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return 'matplotlib not installed (python -m pip install -e ".[plot]"): no figure written'
    dtype, input_type = HEADLINE
    lines: dict[str, list] = {}
    for r in rows:
        if (r["network"], r["dtype"], r["input"]) == ("784-16-10", dtype, input_type) \
                and r["median"]:
            lines.setdefault(r["system"], []).append((r["batch"], r["median"]))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for system, points in sorted(lines.items(), key=lambda item: item[0] != FASTMLP):
        xs, ys = zip(*sorted(points), strict=True)
        ax.plot(xs, ys, marker="o" if len(xs) > 1 else "*", markersize=7 if len(xs) > 1 else 14,
                linewidth=2.5 if system == FASTMLP else 1.5, label=system)
        ax.annotate(si(ys[-1]), (xs[-1], ys[-1]), textcoords="offset points", xytext=(-4, 8),
                    ha="right", fontsize=9)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks([1, 32, 128, 1024], ["1", "32", "128", "1024"])
    ax.set_xlabel("batch size")
    ax.set_ylabel("training samples/s (higher is better)")
    ax.set_title(title, fontsize=11)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
