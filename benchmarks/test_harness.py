"""The harness itself: the worker's process protocol, the report's noise guard and
ratios, and the pages' speed blocks against the committed report.

These are plain tests (no ``benchmark`` fixture): they run in CI's smoke run
(``--benchmark-disable``) and are skipped by ``--benchmark-only`` runs.
"""

from __future__ import annotations

import os

import report
import text_report
from benchutil import FASTMLP, NAIVE_1, NAIVE_DEFAULT, PYTORCH, REPO, SKLEARN, run_worker


def test_worker_runs_one_spec_in_a_fresh_process(mnist_cache):
    spec = {"task": "epoch", "system": "fastmlp", "recipe": "notebook", "hidden": [16],
            "batch": 32, "dtype": "float32", "input": "uint8", "n_samples": 512, "epochs": 2}
    out = run_worker(spec)
    assert out["n_samples"] == 512 and len(out["epoch_seconds"]) == 2
    assert all(s > 0 for s in out["epoch_seconds"])
    assert out["numba_threads"] >= 1
    assert out["pid"] != os.getpid()


def _run(rates: dict[str, list[float]], config: dict | None = None) -> dict:
    """A saved run of one notebook configuration with these samples/s per round."""
    info = dict(suite="epoch", network="784-16-10", recipe="notebook", batch_size=1,
                dtype="float64", input="float32")
    info.update(config or {})
    systems = {s: {"rounds": r, "n_samples": 5000} for s, r in rates.items()}
    systems[SKLEARN] = {"skipped": "not installed here"}
    return {"benchmarks": [{"name": "x", "extra_info": {**info, "systems": systems}}],
            "machine_info": {"fastmlp": {"load_before": [0.5, 0.4, 0.3],
                                         "load_after": [1.0, 0.9, 0.8], "rounds": 3}}}


def test_report_marks_a_noisy_fastmlp_row_and_bases_speedups_on_the_faster_naive_loop():
    quiet = _run({FASTMLP: [200e3, 210e3, 220e3], PYTORCH: [5e3, 5e3, 5e3],
                  NAIVE_1: [20e3, 20e3, 20e3], NAIVE_DEFAULT: [10e3, 12e3, 11e3]})
    markdown, noisy, _ = report.render(quiet, "nox -s bench", "run.json")
    assert noisy == [] and "NOISY" not in markdown
    row = next(r for r in report.parse_tables(markdown)["system|network"]
               if r["system"] == FASTMLP)
    assert list(row)[:6] == ["system", "network", "batch", "dtype", "samples/s", "input"]
    assert row["samples/s"] == "210 k" and row["× naive"] == "10.5×"  # 210 k / 20 k
    assert row["× PyTorch"] == "42.0×" and row["spread"] == "10%"
    assert "0.50, 0.40, 0.30 before" in markdown

    loud = _run({FASTMLP: [100e3, 210e3, 220e3], NAIVE_1: [20e3, 20e3, 20e3]})
    markdown, noisy, _ = report.render(loud, "nox -s bench", "run.json")
    assert len(noisy) == 1 and "**NOISY run:**" in markdown
    assert "- scikit-learn does not run the " in markdown and "not installed here" in markdown


def test_accuracy_table_reports_start_up_apart_from_training():
    def runs(seconds, startups):
        return {"runs": [{"seed": i, "train_seconds": t, "epochs": 3, "accuracy": 0.976,
                          "reached": True, **({} if s is None else {"startup_seconds": s})}
                         for i, (t, s) in enumerate(zip(seconds, startups, strict=True))]}
    info = {"suite": "time_to_accuracy", "target": 0.975, "max_epochs": 15, "systems": {
        FASTMLP: runs([2.0, 1.0, 3.0], [0.5, 0.3, 0.4]),
        PYTORCH: runs([4.0, 4.0, 4.0], [None, None, None])}}
    rows = {r["system"]: r for r in report.parse_tables(
        report.accuracy_table([{"extra_info": info}]))["system|recipe"]}
    assert rows[FASTMLP]["seconds to target"] == "2.00 s"  # the median, start-up apart
    assert rows[FASTMLP]["start-up, once per process"] == "0.40 s (0.30 – 0.50)"
    assert rows[PYTORCH]["start-up, once per process"] == "–"  # a run saved before it
    assert rows[PYTORCH]["× fastmlp"] == "2.00×"


def test_memory_line_states_the_peak_against_the_target():
    def line(peak):
        info = {"suite": "memory", "command": "fastmlp train", "peak_mb": peak,
                "target_mb": 300}
        return report.memory_line([{"extra_info": {"suite": "epoch"}}, {"extra_info": info}])

    assert "**252 MB**, within the 300 MB target" in line(251.6)
    assert "**over**" in line(310.0)
    assert report.memory_line([{"extra_info": {"suite": "epoch"}}]) is None


def test_page_blocks_match_the_report():
    """README.md and docs/index.md quote exactly what docs/benchmarks/latest.md says."""
    latest = (REPO / "docs" / "benchmarks" / "latest.md").read_text()
    for page, link in report.PAGES.items():
        block = report.current_block(page)
        assert block is not None, f"{page}: no {report.START} ... {report.END} block"
        assert block == report.page_block(latest, link), (
            f"{page.name}'s speed block differs from docs/benchmarks/latest.md: "
            "run `python benchmarks/report.py --pages` (nox -s bench does)")


def test_the_report_is_a_generated_one():
    latest = (REPO / "docs" / "benchmarks" / "latest.md").read_text()
    assert latest.startswith("# fastmlp benchmarks: latest run")
    assert "- Command: `nox -s bench" in latest and "Load average" in latest
    rows = report.parse_tables(latest)["system|network"]
    assert {r["system"] for r in rows} >= {FASTMLP, NAIVE_1, NAIVE_DEFAULT}


def test_predict_table_gives_rates_latency_and_ratios_and_says_why_a_peer_did_not_run():
    def rounds(rate, median, p99):
        return {"rounds": [{"rows_per_second": rate, "latency_median_us": median,
                            "latency_p99_us": p99, "checksum": 1.0}]}

    bench = {"extra_info": {"suite": "predict", "input": "uint8", "systems": {
        SKLEARN: {"skipped": "no uint8 path"},
        FASTMLP: rounds(400_000, 4.0, 9.0),
        PYTORCH: rounds(100_000, 20.0, 40.0),
    }}}
    text = report.prediction_table([bench])
    lines = text.splitlines()
    assert lines[2].startswith("| fastmlp | uint8 | 400 k |")
    assert "| PyTorch | uint8 | 100 k | 100 k–100 k | 4.0× | 20.0 | 40.0 |" in text
    assert "not run: no uint8 path" in lines[4]
    assert report.prediction_table([]) is None


def test_text_table_gives_rates_and_ratios_and_says_why_a_peer_did_not_run():
    bench = {"extra_info": {"suite": "text", "network": "100000-128-20", "batch_size": 128,
                            "systems": {PYTORCH: {"skipped": "PyTorch not installed"},
                                        SKLEARN: {"rounds": [100.0, 120.0, 110.0]},
                                        FASTMLP: {"rounds": [1100.0, 1000.0, 1200.0]}}}}
    text = text_report.text_table([bench], report.si, report.table)
    lines = text.splitlines()
    assert lines[2].startswith("| fastmlp | 100000-128-20 | 128 | 1.1 k |")
    assert "| scikit-learn | 100000-128-20 | 128 | 110 | 100–120 | 10.0× |" in text
    assert "not run: PyTorch not installed" in lines[3]
    assert text_report.text_table([], report.si, report.table) is None


def test_worker_forces_a_first_layer_path_and_refuses_impossible_ones(monkeypatch):
    import pytest
    import worker

    from fastmlp.engine import first_layer

    # restored after the test: force_first_layer replaces them for the process
    monkeypatch.setattr(first_layer, "lists_by_blocks", first_layer.lists_by_blocks)
    monkeypatch.setattr(first_layer, "lists_nonzeros", first_layer.lists_nonzeros)
    spec = {"hidden": [16], "dtype": "float32"}
    worker.force_first_layer(spec)  # no first_layer key: nothing forced
    assert first_layer.lists_by_blocks.__module__ == "fastmlp.engine.first_layer"
    worker.force_first_layer({**spec, "first_layer": "rows"})
    assert first_layer.lists_nonzeros(None, None) and not first_layer.lists_by_blocks(None, None)
    with pytest.raises(ValueError, match="cannot run by blocks"):
        worker.force_first_layer({"hidden": [10], "dtype": "float32", "first_layer": "blocks"})
    with pytest.raises(ValueError, match="must be 'blocks', 'rows' or 'blas'"):
        worker.force_first_layer({**spec, "first_layer": "gpu"})
