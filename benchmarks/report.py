"""Turn a saved benchmark run into the report, and the README's and landing page's blocks.

    python benchmarks/report.py [--json FILE | --name NAME] [--out docs/benchmarks]
                                [--pages]

Reads the newest run saved under ``.benchmarks/`` (or the one given), stores it as
its CPU's file ``<out>/results/<cpu>.json`` (``results.py``: a run on another CPU
keeps its own file), and writes ``<out>/latest.md`` with one section per CPU, the
newest first, each opening with a summary (``summary.py``) and its chart
``<out>/throughput-<cpu>.png``; ``--stored`` rewrites them from the stored files
alone. With
``--pages`` it also rewrites the speed blocks of ``README.md`` and
``docs/index.md`` (between ``<!-- bench:start -->`` and ``<!-- bench:end -->``)
from that ``latest.md``: one source of truth, checked by
``test_harness.py::test_page_blocks_match_the_report``.

Every figure is a median over rounds, each round a fresh process per system,
with the min-max beside it. Ratios are ratios of medians from the one run. A
fastmlp row spreading by more than ``NOISY_SPREAD`` between rounds marks the
run NOISY (in the report, and printed).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path

import predict_report
import results
import summary
import text_report
from benchutil import (
    FASTMLP,
    NAIVE,
    NOISY_SPREAD,
    PRESET,
    PYTORCH,
    REPO,
    SKLEARN,
    SYSTEMS,
)
from summary import ratio, si

STORAGE = REPO / ".benchmarks"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
PAGES = {REPO / "README.md": "docs/benchmarks/latest.md",
         REPO / "docs" / "index.md": "benchmarks/index.md"}
# Item 9 of issue 9: the first five columns keep their names and positions.
# Narrow enough for a laptop screen: the samples per epoch and the rounds are said once,
# above the table, and a peer that cannot run a row is one line below it (summary.py).
THROUGHPUT_HEADER = ["system", "network", "batch", "dtype", "samples/s", "input", "min–max",
                     "spread", "× naive", "× PyTorch", "× scikit-learn", "note"]
ACCURACY_HEADER = ["system", "recipe", "input", "seconds to target", "min–max", "epochs",
                   "test accuracy", "seeds", "× fastmlp", "start-up, once per process"]
RECIPE_TEXT = {"notebook": "logistic, squared error, SGD 0.01",
               "adam": "ReLU, softmax + log loss, Adam 1e-3"}


def find_run(storage: Path, name: str | None) -> Path:
    pattern = f"[0-9][0-9][0-9][0-9]_{name}.json" if name else "[0-9][0-9][0-9][0-9]_*.json"
    runs = sorted(storage.glob(f"*/{pattern}"), key=lambda p: p.stat().st_mtime)
    if not runs:
        sys.exit(f"no saved benchmark run matching {pattern} under {storage}; run nox -s bench")
    return runs[-1]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# -- the saved run to rows -------------------------------------------------------------------


def throughput_rows(benchmarks: list[dict]) -> list[dict]:
    """One row per system and configuration; ``median`` etc. None where it was skipped."""
    rows = []
    for bench in benchmarks:
        info = bench.get("extra_info", {})
        if info.get("suite") != "epoch":
            continue
        for system, result in info["systems"].items():
            rates = result.get("rounds") or []
            median = statistics.median(rates) if rates else None
            rows.append({
                "system": system, "network": info["network"], "recipe": info["recipe"],
                "batch": info["batch_size"], "dtype": info["dtype"],
                # a dense row's data set rides in its input cell: its own key, own line
                "input": info["input"] if info.get("data", "mnist") == "mnist" else (
                    f"{info['input']}, {info['data']}"),
                "rates": rates, "median": median, "skipped": result.get("skipped"),
                "spread": (max(rates) - min(rates)) / median if rates else None,
                "n_samples": result.get("n_samples"),
                "threads": {k: result[k] for k in ("blas_threads", "numba_threads",
                                                   "torch_threads") if k in result},
                "version": result.get("version"),
            })
    order = {s: i for i, s in enumerate(SYSTEMS)}
    rows.sort(key=lambda r: (r["network"] != "784-16-10", len(r["network"]), r["network"],
                             r["batch"], r["dtype"], r["input"], order.get(r["system"], 9)))
    return rows


def throughput_table(rows: list[dict]) -> tuple[str, list[str]]:
    """The markdown table and the fastmlp rows that spread beyond NOISY_SPREAD."""
    def key(r, system=None):
        return (system or r["system"], r["network"], r["batch"], r["dtype"], r["input"])

    by_key = {key(r): r for r in rows}
    best_naive = {}  # input type -> the faster naive row's median
    for r in rows:
        if r["system"] in NAIVE and r["median"]:
            best_naive[r["input"]] = max(best_naive.get(r["input"], 0), r["median"])
    cells, noisy = [], []
    for r in rows:
        mine = r["system"] == FASTMLP
        if r["skipped"]:
            continue  # one line under the table per peer and reason (summary.not_run_lines)
        notes = []
        if mine and r["spread"] > NOISY_SPREAD:
            noisy.append(f"{r['network']} batch {r['batch']} {r['dtype']} {r['input']} input")
            notes.append(f"NOISY (spread > {NOISY_SPREAD:.0%})")
        if r["system"] == SKLEARN and r["dtype"] != r["input"]:
            notes.append(f"converts to {r['dtype']} in the timing")
        naive_ok = r["recipe"] == "notebook" and r["system"] not in NAIVE
        peers = [by_key.get(key(r, p)) for p in (PYTORCH, SKLEARN)]
        cells.append([
            r["system"], r["network"], str(r["batch"]), r["dtype"], si(r["median"]), r["input"],
            f"{si(min(r['rates']))} – {si(max(r['rates']))}", f"{r['spread']:.0%}",
            ratio(r["median"], best_naive.get(r["input"])) if naive_ok else "–",
            *[ratio(r["median"], p["median"]) if mine and p else "–" for p in peers],
            "; ".join(notes),
        ])
    return table(THROUGHPUT_HEADER, cells), noisy


def _preset_recipe() -> str:
    """The default preset's recipe in words, read from fastmlp.presets."""
    from fastmlp.presets import PRESETS

    p = PRESETS["default"]
    schedule = "" if p["learning_rate"] == "constant" else f" ({p['learning_rate']} schedule)"
    return (f"`PRESETS[\"default\"]`: ReLU, softmax + log loss, Adam {p['learning_rate_init']:g}"
            f"{schedule}, L2 {p['alpha']:g}, batch {p['batch_size']}, {p['max_iter']} epochs")


def accuracy_table(benchmarks: list[dict]) -> str:
    info = next((b["extra_info"] for b in benchmarks
                 if b.get("extra_info", {}).get("suite") == "time_to_accuracy"), None)
    if info is None:
        return ""
    medians = {}
    for system, result in info["systems"].items():
        runs = result.get("runs") or []
        if runs and all(r["reached"] for r in runs):
            medians[system] = statistics.median(r["train_seconds"] for r in runs)
    cells = []
    order = [FASTMLP, PYTORCH, SKLEARN, PRESET]
    for system in sorted(info["systems"], key=lambda s: order.index(s) if s in order else 9):
        result = info["systems"][system]
        recipe = (_preset_recipe() if system == PRESET
                  else "ReLU, softmax + log loss, Adam 1e-3")
        if result.get("skipped"):
            cells.append([system, recipe, "float32", "–", "–", "–", "–", "–",
                          f"not run: {result['skipped']}", "–"])
            continue
        runs = result["runs"]
        seconds = [r["train_seconds"] for r in runs]
        reached = all(r["reached"] for r in runs)
        cells.append([
            system, recipe, "uint8" if system == PRESET else "float32",
            f"{statistics.median(seconds):.2f} s" if reached
            else f"NOT reached within {info['max_epochs']} epochs",
            f"{min(seconds):.2f} – {max(seconds):.2f} s",
            " / ".join(str(r["epochs"]) for r in runs),
            " / ".join(f"{r['accuracy']:.2%}" for r in runs),
            ", ".join(str(r["seed"]) for r in runs),
            ratio(medians.get(system), medians.get(FASTMLP)) if system != FASTMLP else "–",
            _startup(runs),
        ])
    return table(ACCURACY_HEADER, cells)


def _startup(runs: list[dict]) -> str:
    """Median one-off start-up of a system's runs (older saved runs did not record it)."""
    seconds = [r["startup_seconds"] for r in runs if "startup_seconds" in r]
    if not seconds:
        return "–"
    return (f"{statistics.median(seconds):.2f} s ({min(seconds):.2f} – "
            f"{max(seconds):.2f})")


TITLE = "# fastmlp benchmarks: latest run"
OTHER_CPUS = "## Results on other CPUs"
METHOD = (
    "How it was measured: every system × configuration ran in fresh Python processes "
    "of its own, one per round, rounds interleaved (A B C, then C B A, ...). Imports, "
    "loading MNIST, preparing the input and a warm-up fit on 1,024 samples (compiling "
    "fastmlp's kernels) come before the timing. A round's figure is the fastest of its "
    "timed one-epoch fits; samples/s is the median over rounds, min–max and spread "
    "((max − min) / median) beside it. × columns are ratios of medians in this run: "
    "× naive over the faster of the two naive-loop rows with the same input type, "
    "× PyTorch and × scikit-learn over that peer's row of the same network, batch, "
    "dtype and input.\n\n"
    "What each system runs: the same network, batch size, data and input type. "
    "dtype is the maths dtype, input the type of the training array handed over. "
    "fastmlp: `MLPClassifier(...).fit` with `max_iter=1`, a fresh estimator per "
    "epoch, shuffled. PyTorch: eager, a plain loop over `torch.randperm` batches; "
    "uint8 input is converted and scaled per batch. scikit-learn: `MLPClassifier` "
    "with `max_iter=1`, shuffled; it has no squared-error classifier, so the notebook "
    "rows train softmax + log loss (the same products, a different output pass), and "
    "no uint8 path. The naive loop (`fastmlp.baseline.train`, float64, batch 1, file "
    "order) and the peers at batch 1 run on fewer images (the samples line above). "
    "Notebook recipe (784-16-10): logistic hidden and output, squared error, SGD 0.01. "
    "784-128-10 and 784-256-128-10: ReLU, softmax + log loss, Adam 1e-3, no L2."
)
ACCURACY_TEXT = (
    "Seconds of training (the sum of the epochs; scoring the 10,000 test images "
    "after each epoch excluded) until the test accuracy first reaches 97.5 %, "
    "median over the seeds, each seed of each system a fresh process. As for "
    "throughput, two warm-up fits on 1,024 samples come first; the first one's "
    "extra seconds over the second are the start-up column: what a fresh process "
    "pays once, on its first fit (fastmlp: loading its compiled kernels from "
    "Numba's cache; PyTorch: its first calls), on top of the training time. One recipe "
    "for fastmlp, PyTorch and scikit-learn: 784-128-10, batch 128, float32, "
    "shuffled, at most 15 epochs; scikit-learn trains with `partial_fit` (one epoch "
    "per call, validating its input each time). × fastmlp: that row's median over "
    "fastmlp's."
)


def _samples_line(rows: list[dict]) -> str:
    """How many training images an epoch of each kind of row ran on."""
    counts: dict[int, set[str]] = {}
    for r in rows:
        if r["n_samples"]:
            counts.setdefault(r["n_samples"], set()).add(
                "the naive loop" if r["system"] in NAIVE
                else f"{r['system']} at batch {r['batch']}")
    if not counts:
        return "- Samples per epoch: unknown"
    most = max(counts, key=lambda n: len(counts[n]))
    fewer = [f"{', '.join(sorted(counts[n]))}: the first {n:,}" for n in sorted(counts)
             if n != most]
    return f"- Samples per epoch: {most:,} MNIST training images" + (
        f" ({'; '.join(fewer)})" if fewer else "")


def render(data: dict, command: str, raw: str, chart: str = "throughput.png",
           level: int = 2) -> tuple[str, list[str], list[dict]]:
    """One run's section: summary, every row, time to accuracy, memory, machine and method.

    Returns (the section's markdown, the noisy fastmlp rows, the throughput rows).
    ``level`` is the depth of the section's heading (its parts are one deeper).
    """
    rows = throughput_rows(data["benchmarks"])
    throughput, noisy = throughput_table(rows)
    accuracy = accuracy_table(data["benchmarks"])
    when = (data.get("datetime") or datetime.now(timezone.utc).isoformat())[:16]
    when = when.replace("T", " ") + " UTC"
    command = data.get("command") or command
    cpu = results.cpu_of(data)
    h, sub = "#" * level, "#" * (level + 1)
    sections = [f"{h} {cpu['model']}: summary", "",
                f"- CPU: {summary.cpu_text(cpu)}",
                f"- Date: {when}; command: `{command}`"]
    if noisy:
        sections += ["", f"**NOISY run:** {len(noisy)} fastmlp row(s) spread by more than "
                         f"{NOISY_SPREAD:.0%} between rounds ({'; '.join(noisy)}). Re-run on a "
                         "quiet machine before quoting these figures."]
    # the ratios and the chart side by side (docs/stylesheets/extra.css), in one screen
    sections += [
        "", "fastmlp's samples/s, and over each peer's (one epoch, float32 maths and input; "
        "above 1× fastmlp is faster):", "",
        '<div class="bench-summary" markdown>', '<div markdown>', "",
        summary.ratio_table(rows), "", "</div>",
        '<figure markdown>', "",
        f"![samples/s against batch size, {cpu['model']}]({chart})", "",
        "<figcaption>The notebook network (784-16-10), float32: samples/s against batch "
        "size, median over rounds, each system in fresh processes.</figcaption>",
        "</figure>", "</div>", "",
        f"{sub} Every configuration", "", _samples_line(rows), "", throughput, "",
        *summary.not_run_lines(rows), ""]
    if accuracy:
        sections += [f"{sub} Time to 97.5 % MNIST test accuracy", "", ACCURACY_TEXT, "",
                     accuracy, ""]
    predict = prediction_table(data["benchmarks"])
    if predict:
        sections += [f"{sub} Prediction", "", predict_report.PREDICT_NOTES, "", predict, ""]
    sparse_input = text_report.text_table(data["benchmarks"], si, table)
    if sparse_input:
        sections += [f"{sub} Sparse input", "", text_report.TEXT_NOTES, "", sparse_input, ""]
    memory = memory_line(data["benchmarks"])
    if memory:
        sections += [f"{sub} Memory", "", memory, ""]
    sections += [f"{sub} Machine and method", "", *_machine_lines(data, rows, raw, command),
                 "", METHOD, ""]
    return "\n".join(sections), noisy, rows


def _machine_lines(data: dict, rows: list[dict], raw: str, command: str) -> list[str]:
    info = data.get("machine_info", {})
    extra = info.get("fastmlp", {})
    commit = data.get("commit_info", {})
    threads, versions = {}, {}
    for r in rows:
        threads.setdefault(r["system"], r["threads"])
        if r["version"]:
            versions[r["system"]] = r["version"]

    def load(key: str) -> str:
        values = extra.get(key)
        return ", ".join(f"{v:.2f}" for v in values) if values else "unknown"

    thread_text = "; ".join(
        f"{system}: " + ", ".join(f"{k.removesuffix('_threads')} {v}" for k, v in t.items())
        for system, t in threads.items() if t
    )
    return [
        f"- Command: `{command}`; stored as `{raw}` (one file per CPU: a run on another "
        "CPU keeps its own file and section)",
        *([f"- Note: {data['note']}"] if data.get("note") else []),
        f"- Commit: {(commit.get('id') or '?')[:12]}"
        + (" (dirty tree)" if commit.get("dirty") else ""),
        f"- BLAS: {extra.get('blas', 'unknown')}",
        f"- Threads per system: {thread_text or 'unknown'}",
        f"- Python {info.get('python_version', '?')}, NumPy {extra.get('numpy_version', '?')}, "
        f"Numba {extra.get('numba_version', '?')}"
        + "".join(f", {s} {v}" for s, v in versions.items()),
        f"- Load average (1, 5, 15 min): {load('load_before')} before, "
        f"{load('load_after')} after",
        f"- Duration of the run: {extra['duration_s'] / 60:.1f} min" if extra.get("duration_s")
        else "- Duration of the run: not recorded",
        f"- Rounds: {extra.get('rounds', '?')} per system and configuration, each a fresh "
        f"process timing {extra.get('epochs_per_round', '?')} epochs and keeping the fastest"
        + (" (quick mode: a subset of the rows)" if extra.get("quick") else ""),
    ]


def chart_name(run: dict) -> str:
    return f"throughput-{results.cpu_key(run)}.png"


def report(runs: list[dict], out: Path) -> tuple[str, list[str]]:
    """latest.md of every stored run, the newest first, and its noisy rows; writes the charts."""
    parts = [TITLE, ""]
    newest_noisy: list[str] = []
    for i, run in enumerate(runs):
        if i == 1:
            parts += [OTHER_CPUS, "", "Each CPU's results are stored in a file of their own "
                      "(`docs/benchmarks/results/`); the newest run opens the page.", ""]
        key = results.cpu_key(run)
        section, noisy, rows = render(run, run.get("command") or "nox -s bench",
                                      f"docs/benchmarks/results/{key}.json",
                                      chart_name(run), level=2 if i == 0 else 3)
        newest_noisy = newest_noisy if i else noisy
        parts.append(section)
        problem = summary.plot(rows, out / chart_name(run),
                               f"one epoch, 784-16-10, float32: {run_cpu_title(run)}")
        if problem:
            print(problem)
    return "\n".join(parts), newest_noisy


def run_cpu_title(run: dict) -> str:
    cpu = results.cpu_of(run)
    return f"{cpu['model']}, {cpu['cores']} cores" if cpu.get("cores") else cpu["model"]


def prediction_table(benchmarks: list[dict]) -> str | None:
    """The prediction section's table, None if the predict suite did not run."""
    return predict_report.predict_table(benchmarks, si, table)


def memory_line(benchmarks: list[dict]) -> str | None:
    """The peak resident memory of `fastmlp train`, from the memory suite, if it ran."""
    info = next((b.get("extra_info", {}) for b in benchmarks
                 if b.get("extra_info", {}).get("suite") == "memory"), None)
    if not info:
        return None
    verdict = "within" if info["peak_mb"] < info["target_mb"] else "**over**"
    return (f"Peak resident memory of `{info['command']}` (default preset; the whole process, "
            f"its own high-water mark after training and the test evaluation): "
            f"**{info['peak_mb']:.0f} MB**, {verdict} the {info['target_mb']} MB target.")


# -- the pages' blocks, from latest.md -------------------------------------------------------


def parse_tables(markdown: str) -> dict[str, list[dict]]:
    """Every table of a report, keyed by its header's first two cells ('system|network')."""
    tables: dict[str, list[dict]] = {}
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        if not (line.startswith("| ") and i + 1 < len(lines) and lines[i + 1].startswith("|---")):
            continue
        header = [c.strip() for c in line.strip("|").split("|")]
        body = []
        for row in lines[i + 2:]:
            if not row.startswith("|"):
                break
            body.append(dict(zip(header, (c.strip() for c in row.strip("|").split("|")),
                                 strict=True)))
        tables["|".join(header[:2])] = body
    return tables


def page_block(markdown: str, link: str) -> str:
    """The speed block of README.md / docs/index.md, every figure taken from latest.md's
    newest run (the first CPU's section)."""
    markdown = markdown.split(OTHER_CPUS, 1)[0]
    tables = parse_tables(markdown)
    rows = tables.get("system|network", [])
    date = re.search(r"^- Date: ([^;]+);", markdown, re.M)
    command = re.search(r"^- Command: `([^`]+)`", markdown, re.M)
    cpu = re.search(r"^- CPU: ([^;]+)", markdown, re.M)
    samples = re.search(r"^- Samples per epoch: (.+)$", markdown, re.M)

    def cell(system, network, batch, dtype, input_type, column="samples/s"):
        for r in rows:
            if (r["system"], r["network"], r["batch"], r["dtype"], r["input"]) == (
                    system, network, str(batch), dtype, input_type):
                return r[column]
        return "–"

    batches = (1, 32, 128, 1024)
    net = "784-16-10"
    naive = [r for r in rows if r["system"] in NAIVE and r["input"] == "float32"
             and r["samples/s"] != "–"]
    best_naive = max(naive, key=lambda r: _number(r["samples/s"]), default=None)
    lines = [
        START,
        "Notebook net (784-16-10, logistic, squared error, SGD), float32 maths on float32 "
        "input, training samples/s; samples per epoch: "
        f"{samples.group(1) if samples else 'unknown'}:",
        "",
        "| system | " + " | ".join(f"batch {b}" for b in batches) + " |",
        "|---|" + "---|" * len(batches),
    ]
    for system, label in ((FASTMLP, "fastmlp"), (PYTORCH, "PyTorch eager"),
                          (SKLEARN, "scikit-learn (softmax + log loss)")):
        lines.append(f"| {label} | "
                     + " | ".join(cell(system, net, b, "float32", "float32") for b in batches)
                     + " |")
    for column, label in (("× PyTorch", "fastmlp / PyTorch"),
                          ("× scikit-learn", "fastmlp / scikit-learn"),
                          ("× naive", "fastmlp / naive loop")):
        lines.append(f"| {label} | " + " | ".join(
            cell(FASTMLP, net, b, "float32", "float32", column) for b in batches) + " |")
    lines += [""]
    if best_naive:
        lines.append(f"- Naive notebook loop (float64, batch 1, float32 input, its faster "
                     f"thread count: {best_naive['system'].removeprefix('naive loop, ')}): "
                     f"{best_naive['samples/s']} samples/s.")
    lines.append(
        "- 784-128-10 ReLU, Adam, batch 128, float32: fastmlp "
        f"{cell(FASTMLP, '784-128-10', 128, 'float32', 'float32')}, PyTorch "
        f"{cell(PYTORCH, '784-128-10', 128, 'float32', 'float32')}, scikit-learn "
        f"{cell(SKLEARN, '784-128-10', 128, 'float32', 'float32')} samples/s "
        f"(uint8 input: fastmlp {cell(FASTMLP, '784-128-10', 128, 'float32', 'uint8')}).")
    accuracy = {r["system"]: r for r in tables.get("system|recipe", [])}
    if accuracy:
        parts = [f"{s} {accuracy[s]['seconds to target']}" for s in (FASTMLP, PYTORCH, SKLEARN)
                 if s in accuracy]
        text = ("- Time to 97.5 % test accuracy, one recipe (784-128-10 ReLU, Adam 1e-3, "
                "batch 128, float32), median over seeds: " + ", ".join(parts))
        if PRESET in accuracy:
            text += f"; fastmlp's default preset {accuracy[PRESET]['seconds to target']}"
            startup = accuracy[PRESET].get("start-up, once per process", "–")
            if startup != "–":
                text += (f", plus a one-off start-up of {startup.split(' (')[0]} "
                         "per process (compiled kernels loaded)")
        lines.append(text + ".")
    noisy = "**NOISY run:**" in markdown
    lines += [
        "",
        f"From one `{command.group(1) if command else 'nox -s bench'}` run "
        f"({date.group(1) if date else 'date unknown'}, {cpu.group(1) if cpu else 'CPU unknown'})"
        ": each system in fresh processes of its own, "
        "medians over interleaved rounds"
        + (", **marked NOISY** (a fastmlp row spread > 20 % between rounds)" if noisy else "")
        + f". Spread, threads, uint8 input, float64 and every other row: [the report]({link}).",
        END,
    ]
    return "\n".join(lines)


def _number(text: str) -> float:
    value, _, unit = text.partition(" ")
    return float(value) * {"k": 1e3, "M": 1e6}.get(unit, 1)


def rewrite_block(path: Path, block: str) -> None:
    text = path.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{path}: no {START} ... {END} markers to rewrite")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(head + block + tail)


def current_block(path: Path) -> str | None:
    text = path.read_text()
    if START not in text or END not in text:
        return None
    return START + text.split(START, 1)[1].split(END, 1)[0] + END


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="a saved run (default: the newest)")
    parser.add_argument("--storage", type=Path, default=STORAGE, help="pytest-benchmark storage")
    parser.add_argument("--name", help="newest saved run with this --benchmark-save name")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks")
    parser.add_argument("--command", default="nox -s bench", help="command quoted in the report")
    parser.add_argument("--stored", action="store_true",
                        help="no new run: rewrite the report from <out>/results/ alone")
    parser.add_argument("--pages", action="store_true",
                        help="also rewrite the speed blocks of README.md and docs/index.md")
    args = parser.parse_args(argv)

    folder = args.out / "results"
    if not args.stored:
        path = (args.json or find_run(args.storage, args.name)).resolve()
        kept = results.save(json.loads(path.read_text()), args.command, folder)
        print(f"stored {path} as {kept}")
    runs = results.load_all(folder)
    if not runs:
        sys.exit(f"no stored results in {folder}; run nox -s bench")
    markdown, noisy = report(runs, args.out)
    print(markdown)
    (args.out / "latest.md").write_text(markdown)
    print(f"\nwrote {args.out / 'latest.md'} and its charts")
    if args.pages:
        for page, link in PAGES.items():
            rewrite_block(page, page_block(markdown, link))
            print(f"rewrote the speed block of {page.relative_to(REPO)}")
    if noisy:
        print(f"\nNOISY RUN: fastmlp rows spread by more than {NOISY_SPREAD:.0%} between "
              f"rounds: {'; '.join(noisy)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
