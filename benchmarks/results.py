"""The committed results of the benchmark runs: one file per CPU.

A run measured on one CPU says nothing about another, so each CPU keeps its
own file, ``<out>/results/<cpu>.json``: a new run replaces the file of its own
CPU and leaves the others alone, and the report shows every CPU in its own
section. A file holds what the report needs from pytest-benchmark's saved run
(each benchmark's ``extra_info``, the machine facts, the date and commit)
without pytest-benchmark's own timing statistics, which measure nothing here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path


def cpu_of(run: dict) -> dict:
    """The run's CPU: model name, core count and vector extensions (None if not recorded)."""
    facts = run.get("machine_info", {}).get("fastmlp", {})
    return {"model": facts.get("cpu_model") or "unknown CPU", "cores": facts.get("cores"),
            "vector_extensions": facts.get("vector_extensions")}


def cpu_key(run: dict) -> str:
    """The file name of a run's CPU: its model name, and its widest vector extension."""
    cpu = cpu_of(run)
    name = re.sub(r"\((r|tm)\)", "", cpu["model"].lower())
    name = re.sub(r"[^a-z0-9]+", "-", name).strip("-") or "unknown-cpu"
    extensions = cpu["vector_extensions"] or []
    widest = next((e for e in ("avx512f", "avx2", "avx", "sve2", "sve", "asimd")
                   if e in extensions), None)
    return f"{name}-{widest.replace('_', '')}" if widest else name


def stored(run: dict, command: str) -> dict:
    """The part of a saved pytest-benchmark run that is kept: no timing statistics."""
    return {
        "note": run.get("note"),
        "datetime": run.get("datetime"),
        "command": command,
        "commit_info": {k: run.get("commit_info", {}).get(k) for k in ("id", "dirty")},
        "machine_info": {"python_version": run.get("machine_info", {}).get("python_version"),
                         "fastmlp": run.get("machine_info", {}).get("fastmlp", {})},
        "benchmarks": [{"name": b.get("name"), "extra_info": b.get("extra_info", {})}
                       for b in run.get("benchmarks", [])],
    }


def save(run: dict, command: str, folder: Path) -> Path:
    """Store a run as its CPU's file in ``folder``, replacing that CPU's earlier run only."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{cpu_key(run)}.json"
    path.write_text(json.dumps(stored(run, command), indent=1, sort_keys=True) + "\n")
    return path


def load_all(folder: Path) -> list[dict]:
    """Every stored run in ``folder``, the newest first."""
    runs = [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]
    return sorted(runs, key=lambda run: run.get("datetime") or "", reverse=True)
