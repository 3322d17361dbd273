"""The report's layout: a summary first, one short line per peer that cannot run some
rows, and each CPU's results in a file and section of their own."""

from __future__ import annotations

import json

import report
import results
import summary
from benchutil import FASTMLP, NAIVE_1, PYTORCH, SKLEARN


def _run(cpu: str, extensions, when: str, fastmlp_rate: float) -> dict:
    benchmarks = []
    for batch in (1, 32):
        for input_type in ("float32", "uint8"):
            systems = {FASTMLP: {"rounds": [fastmlp_rate * batch] * 3, "n_samples": 60000},
                       PYTORCH: {"rounds": [1e3 * batch] * 3, "n_samples": 60000}}
            systems[SKLEARN] = ({"skipped": "no uint8 path"} if input_type == "uint8"
                                else {"rounds": [2e3 * batch] * 3, "n_samples": 60000})
            if batch == 1:
                systems[NAIVE_1] = {"rounds": [1e3] * 3, "n_samples": 5000}
            benchmarks.append({"name": "x", "extra_info": {
                "suite": "epoch", "network": "784-16-10", "recipe": "notebook",
                "batch_size": batch, "dtype": "float32", "input": input_type,
                "systems": systems}})
    return {"datetime": when, "benchmarks": benchmarks, "commit_info": {"id": "abc"},
            "machine_info": {"fastmlp": {"cpu_model": cpu, "cores": 2,
                                         "vector_extensions": extensions}}}


def test_each_cpu_keeps_its_own_file(tmp_path):
    xeon = _run("Intel(R) Xeon(R) Processor", ["avx2", "avx512f"], "2026-12-01T10:00", 1e5)
    epyc = _run("AMD EPYC", ["avx2"], "2026-12-02T10:00", 2e5)
    results.save(xeon, "nox -s bench", tmp_path)
    results.save(epyc, "nox -s bench", tmp_path)
    results.save(dict(epyc, datetime="2026-12-03T10:00"), "nox -s bench", tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["amd-epyc-avx2.json", "intel-xeon-processor-avx512f.json"]
    stored = results.load_all(tmp_path)
    assert [r["datetime"] for r in stored] == ["2026-12-03T10:00", "2026-12-01T10:00"]
    assert "stats" not in json.dumps(stored)


def test_report_opens_with_the_newest_cpu_and_keeps_the_others(tmp_path):
    xeon = _run("Intel(R) Xeon(R) Processor", None, "2026-12-01T10:00", 1e5)
    epyc = _run("AMD EPYC", ["avx2", "fma"], "2026-12-02T10:00", 2e5)
    markdown, _ = report.report([epyc, xeon], tmp_path)
    newest, others = markdown.split(report.OTHER_CPUS)
    assert newest.index("- CPU: AMD EPYC, 2 cores; vector extensions AVX2, FMA") < newest.index(
        "| network | batch |") < newest.index("![") < newest.index("### Every configuration")
    assert "Intel(R) Xeon(R) Processor" in others and "vector extensions not recorded" in others
    assert (tmp_path / "throughput-amd-epyc-avx2.png").exists() == summary_can_plot()
    # the pages quote the newest CPU only
    block = report.page_block(markdown, "latest.md")
    assert "200 k" in block and "100 k" not in block and "AMD EPYC" in block


def summary_can_plot() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def test_ratio_table_rows_are_network_and_batch_columns_the_peers():
    rows = report.throughput_rows(_run("X", None, "2026-12-01T10:00", 1e5)["benchmarks"])
    table = report.parse_tables(summary.ratio_table(rows))["network|batch"]
    assert [(r["network"], r["batch"]) for r in table] == [("784-16-10", "1"), ("784-16-10", "32")]
    assert table[0]["× PyTorch"] == "100×" and table[0]["× scikit-learn"] == "50.0×"
    assert table[1]["× naive loop"] == "3200×"  # the batch-1 naive loop is the baseline


def test_a_peer_that_cannot_run_rows_is_one_line():
    markdown, _, _ = report.render(_run("X", None, "2026-12-01T10:00", 1e5), "c", "r.json")
    table = report.parse_tables(markdown)["system|network"]
    assert all(r["samples/s"] != "–" for r in table)  # no row of dashes
    lines = [line for line in markdown.splitlines()
             if line.startswith("- ") and "no uint8 path" in line]
    assert lines == ["- scikit-learn does not run the uint8 input float32 maths 784-16-10 "
                     "rows (2): no uint8 path."]
    assert len(report.THROUGHPUT_HEADER) <= 12
