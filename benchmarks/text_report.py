"""The sparse-input section of the benchmark report (``report.py``), from the text suite."""

from __future__ import annotations

import statistics

from benchutil import FASTMLP, TEXT_SYSTEMS

TEXT_HEADER = ["system", "network", "batch", "docs/s", "min–max", "× fastmlp"]
TEXT_NOTES = (
    "Sparse input: one epoch on a generated text corpus (`benchmarks/textcorpus.py`: a Zipf "
    "vocabulary of 100,000 terms, about 100 terms per document, 20 topics, sublinear tf "
    "scaled to unit rows; no labelled text corpus ships in an installed package), float32 "
    "CSR for every system, the same network (ReLU, softmax, Adam 1e-3, no L2) and batch. "
    "fastmlp: `MLPClassifier.fit` on the CSR matrix. scikit-learn: its `MLPClassifier` on "
    "the same matrix. PyTorch: eager, the first layer `torch.sparse.mm` of each batch (a COO "
    "tensor built per batch, timed) with dense weights. Each system runs in fresh "
    "processes, rounds interleaved; docs/s is the median over rounds. × fastmlp: fastmlp's "
    "docs/s over that row's."
)


def text_table(benchmarks: list[dict], si, table) -> str | None:
    """The sparse-input table in markdown, None if the text suite did not run; ``si``
    and ``table`` are the report's number and table formats."""
    info = next((b["extra_info"] for b in benchmarks
                 if b.get("extra_info", {}).get("suite") == "text"), None)
    if info is None:
        return None
    fastmlp = info["systems"].get(FASTMLP, {}).get("rounds")
    ours = statistics.median(fastmlp) if fastmlp else None
    order = {s: i for i, s in enumerate(TEXT_SYSTEMS)}
    rows = []
    for system, result in sorted(info["systems"].items(), key=lambda s: order.get(s[0], 9)):
        rates = result.get("rounds")
        if not rates:
            rows.append([system, info["network"], str(info["batch_size"]),
                         f"not run: {result.get('skipped')}", "", ""])
            continue
        rate = statistics.median(rates)
        rows.append([system, info["network"], str(info["batch_size"]), si(rate),
                     f"{si(min(rates))}–{si(max(rates))}", f"{ours / rate:.1f}×" if ours else ""])
    return table(TEXT_HEADER, rows)
